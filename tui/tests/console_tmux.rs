//! The console in a real terminal: tmux runs the event loop (the
//! `synthetic` example: real loop, real terminal, stand-in engine), the test
//! types keys and reads the pane with capture-pane. It proves that keys,
//! the y/n dialog, operation results in the footer, the filter and the sort
//! work through crossterm, and that `q` gives the terminal back. Skipped
//! when tmux is not installed.
//!
//! (Against real zones, the same steps run on the `ztop` binary once the
//! engine is wired in `source::connect`.)

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

impl Session {
    fn capture(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.0, "-l", keys])
            .status()
            .expect("tmux send-keys")
            .success();
        assert!(ok);
        std::thread::sleep(Duration::from_millis(250));
    }

    fn key(&self, name: &str) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.0, name])
            .status()
            .expect("tmux send-keys")
            .success();
        assert!(ok);
        std::thread::sleep(Duration::from_millis(250));
    }

    /// Wait until the pane shows `what`.
    fn wait_for(&self, what: &str) -> String {
        let t0 = Instant::now();
        loop {
            let s = self.capture();
            if s.contains(what) {
                return s;
            }
            if t0.elapsed() > Duration::from_secs(10) {
                panic!("the pane never showed {what:?}; it shows:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn synthetic() -> Option<PathBuf> {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_ztop"));
    let ex = bin.parent()?.join("examples/synthetic");
    ex.exists().then_some(ex)
}

fn tmux_missing() -> bool {
    Command::new("tmux").arg("-V").output().is_err()
}

/// The table's row of `zone` (the lines above the detail pane).
fn row_of(pane: &str, zone: &str) -> Option<String> {
    pane.lines()
        .take_while(|l| !l.starts_with('┌'))
        .find(|l| l.split_whitespace().nth(1) == Some(zone))
        .map(str::to_string)
}

/// Wait until the table's row of `zone` satisfies `ok`.
fn wait_row(s: &Session, zone: &str, what: &str, ok: impl Fn(&str) -> bool) {
    let t0 = Instant::now();
    loop {
        let pane = s.capture();
        if row_of(&pane, zone).is_some_and(|r| ok(&r)) {
            return;
        }
        if t0.elapsed() > Duration::from_secs(10) {
            panic!("the row of {zone} never showed {what}; the pane shows:\n{pane}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The acceptance walk of issue 7, on any console command whose engine has
/// the installed (not running) zone `zone`: select it with the filter, boot
/// it with `b` and see it running, halt it with `h` `y` and see it go,
/// sort, quit with `q` and find the shell's terminal back.
pub fn drive(command: &str, zone: &str) {
    let s = Session(format!("ztop-test-{}-{zone}", std::process::id()));
    let cmd = format!("{command}; echo EXITED:$?; sleep 60");
    let ok = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &s.0,
            "-x",
            "110",
            "-y",
            "32",
            &cmd,
        ])
        .status()
        .expect("tmux new-session")
        .success();
    assert!(ok);
    s.wait_for(" Zones ");
    wait_row(&s, zone, "installed", |r| r.contains("installed"));

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

    // boot: no question; running within two refreshes
    s.keys("b");
    wait_row(&s, zone, "running", |r| r.contains("running"));
    s.wait_for(&format!("{zone}: booted in "));

    // halt asks first
    s.keys("h");
    s.wait_for(&format!("Halt zone {zone}?"));
    s.keys("y");
    s.wait_for(&format!("{zone}: halted in "));
    wait_row(&s, zone, "not running", |r| !r.contains("running"));

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

#[test]
fn boot_halt_filter_sort_and_quit_in_a_real_terminal() {
    if tmux_missing() {
        eprintln!("tmux is not installed: skipped");
        return;
    }
    let Some(bin) = synthetic() else {
        eprintln!("examples/synthetic is not built (cargo test builds it): skipped");
        return;
    };
    drive(&bin.display().to_string(), "spare");
}

#[test]
fn dialog_cancel_errors_and_processes_in_a_real_terminal() {
    if tmux_missing() {
        eprintln!("tmux is not installed: skipped");
        return;
    }
    let Some(bin) = synthetic() else {
        return;
    };
    let s = Session(format!("ztop-test-{}-web", std::process::id()));
    let cmd = format!("{}; echo EXITED:$?; sleep 60", bin.display());
    let ok = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &s.0,
            "-x",
            "100",
            "-y",
            "30",
            &cmd,
        ])
        .status()
        .expect("tmux new-session")
        .success();
    assert!(ok);
    s.wait_for(" Zones ");
    s.keys("/web");
    s.key("Enter");
    s.wait_for("web · id");
    // its one process (the example itself), read from /proc
    s.wait_for("examples/synthetic");
    // destroy asks, n cancels
    s.keys("D");
    s.wait_for("Destroy zone web?");
    s.keys("n");
    s.wait_for("web: destroy cancelled");
    // an engine error lands in the footer
    s.keys("b");
    s.wait_for("web: boot failed: zone is already running");
    s.keys("q");
    s.wait_for("EXITED:0");
}
