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

#[test]
fn keys_dialog_footer_filter_sort_and_quit_in_a_real_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("tmux is not installed: skipped");
        return;
    }
    let Some(bin) = synthetic() else {
        eprintln!("examples/synthetic is not built (cargo test builds it): skipped");
        return;
    };
    let s = Session(format!("ztop-test-{}", std::process::id()));
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
    s.wait_for("Zones 5 running, 1 installed");

    // select web, shut it down: no question, the result comes to the footer
    s.keys("j");
    s.wait_for("web · id 1 · running");
    // its one process (the example itself) read from /proc
    s.wait_for("examples/synthetic");
    s.keys("s");
    s.wait_for("web: shutdown done in 600 ms");

    // halt asks first
    s.keys("h");
    s.wait_for("Halt zone web?");
    s.keys("y");
    s.wait_for("web: halt done in 600 ms");
    assert!(!s.capture().contains("Halt zone web?"));

    // destroy, cancelled with n
    s.keys("D");
    s.wait_for("Destroy zone web?");
    s.keys("n");
    s.wait_for("web: destroy cancelled");

    // filter by name
    s.keys("/");
    s.keys("ba");
    let pane = s.wait_for("filter: ba");
    let table: String = pane.lines().take(8).collect::<Vec<_>>().join("\n");
    assert!(table.contains(" batch "), "{pane}");
    assert!(!table.contains(" web "), "{pane}");
    s.key("Escape");
    s.wait_for(" web ");

    // sort by name, then reversed
    s.keys("n");
    s.wait_for("NAME▼");
    s.keys("n");
    s.wait_for("NAME▲");

    // quit: the loop ends normally and the shell's terminal is back
    s.keys("q");
    let pane = s.wait_for("EXITED:0");
    assert!(pane.contains("ztop synthetic: Quit"), "{pane}");
    assert!(
        !pane.contains("Zones 5 running"),
        "the alternate screen is gone:\n{pane}"
    );
}
