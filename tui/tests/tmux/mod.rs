//! tmux as the terminal of a console under test: a session runs a command
//! in a pane of a fixed size, the test types keys with send-keys and reads
//! the screen with capture-pane. [`drive`] is issue 7's acceptance walk
//! (boot, halt, filter, sort, quit) for any console command.
//!
//! tmux is required: CI installs it (.ci/run), and a test that cannot find
//! it fails rather than skips.

#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

/// How long any one thing may take to show on screen (a booting zone on a
/// busy two-core builder included).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Fail unless tmux runs.
pub fn require_tmux() {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "tmux is required for this test (apt-get install tmux)");
}

/// A tmux session; killed (with what runs in it) on drop.
pub struct Session(pub String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

impl Session {
    /// Start `cmd` (a shell command line) in a detached session of
    /// `cols`×`rows`. The command is followed by `echo EXITED:$?` and a
    /// sleep, so the pane outlives it and shows its exit status.
    pub fn start(name: &str, cols: u16, rows: u16, cmd: &str) -> Session {
        require_tmux();
        let s = Session(name.to_string());
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &s.0])
            .output();
        let cmd = format!("{cmd}; echo EXITED:$?; sleep 600");
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &s.0,
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
                &cmd,
            ])
            .status()
            .expect("tmux new-session")
            .success();
        assert!(ok, "tmux new-session failed");
        s
    }

    pub fn capture(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Type `keys` literally.
    pub fn keys(&self, keys: &str) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.0, "-l", keys])
            .status()
            .expect("tmux send-keys")
            .success();
        assert!(ok);
        std::thread::sleep(Duration::from_millis(250));
    }

    /// Press a named key (`Enter`, `Escape`).
    pub fn key(&self, name: &str) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.0, name])
            .status()
            .expect("tmux send-keys")
            .success();
        assert!(ok);
        std::thread::sleep(Duration::from_millis(250));
    }

    /// Wait until the pane shows `what`.
    pub fn wait_for(&self, what: &str) -> String {
        let t0 = Instant::now();
        loop {
            let s = self.capture();
            if s.contains(what) {
                return s;
            }
            if t0.elapsed() > PATIENCE {
                panic!("the pane never showed {what:?}; it shows:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The table's row of `zone` (the lines above the detail pane).
pub fn row_of(pane: &str, zone: &str) -> Option<String> {
    pane.lines()
        .take_while(|l| !l.starts_with('┌'))
        .find(|l| l.split_whitespace().nth(1) == Some(zone))
        .map(str::to_string)
}

/// Wait until the table's row of `zone` satisfies `ok`; the pane then.
pub fn wait_row(s: &Session, zone: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let t0 = Instant::now();
    loop {
        let pane = s.capture();
        if row_of(&pane, zone).is_some_and(|r| ok(&r)) {
            return pane;
        }
        if t0.elapsed() > PATIENCE {
            panic!("the row of {zone} never showed {what}; the pane shows:\n{pane}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The `N` of `zone: booted in N ms` in the footer.
fn op_ms(pane: &str, zone: &str, done: &str) -> Option<u64> {
    let tag = format!("{zone}: {done} in ");
    let rest = &pane[pane.find(&tag)? + tag.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// The acceptance walk of issue 7, on a console that runs in `s` and whose
/// engine has the installed (not running) zone `zone` among others, at a
/// refresh of `refresh`: select it with the filter, boot it with `b` and see
/// it running within two refreshes of the boot's end, halt it with `h` `y`
/// and see it go, sort, quit with `q` and find the shell's terminal back.
pub fn drive(s: &Session, zone: &str, refresh: Duration) {
    s.wait_for(" Zones ");
    wait_row(s, zone, "installed", |r| r.contains("installed"));

    // filter by name: the first match is selected
    s.keys("/");
    s.keys(zone);
    let pane = s.wait_for(&format!("filter: {zone}"));
    let rows: Vec<&str> = pane
        .lines()
        .take_while(|l| !l.starts_with('┌'))
        .skip(4)
        .collect();
    assert_eq!(rows.len(), 2, "global and {zone} only:\n{pane}");
    s.key("Enter");
    s.wait_for(&format!("{zone} · installed"));

    // boot: no question; the row says running within two refreshes of the
    // boot's end (its duration is in the footer)
    let pressed = Instant::now();
    s.keys("b");
    let pane = wait_row(s, zone, "running", |r| r.contains("running"));
    let seen = pressed.elapsed();
    let pane = if pane.contains(&format!("{zone}: booted in ")) {
        pane
    } else {
        s.wait_for(&format!("{zone}: booted in "))
    };
    let boot = Duration::from_millis(op_ms(&pane, zone, "booted").expect("boot's duration"));
    // + the keystroke's own 250 ms pause and the 100 ms polling
    let limit = boot + 2 * refresh + Duration::from_millis(600);
    assert!(
        seen <= limit,
        "{zone} showed running {seen:?} after `b` (boot took {boot:?}, limit {limit:?})"
    );

    // halt asks first
    s.keys("h");
    s.wait_for(&format!("Halt zone {zone}?"));
    s.keys("y");
    s.wait_for(&format!("{zone}: halted in "));
    wait_row(s, zone, "not running", |r| !r.contains("running"));

    // the filter cleared, every zone is back; sort by name, then reversed
    s.key("Escape");
    s.wait_for(" global ");
    s.keys("n");
    s.wait_for("NAME▼");
    s.keys("n");
    s.wait_for("NAME▲");

    // quit: the loop ends normally and the shell's terminal is back
    s.keys("q");
    let pane = s.wait_for("EXITED:0");
    assert!(
        !pane.contains(" Zones "),
        "the alternate screen is gone:\n{pane}"
    );
}
