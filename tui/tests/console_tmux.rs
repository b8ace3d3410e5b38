//! The console in a real terminal, on a stand-in engine: tmux runs the
//! event loop (the `synthetic` example: real loop, real terminal, synthetic
//! snapshots), the test types keys and reads the pane with capture-pane. It
//! proves that keys, the y/n dialog, operation results in the footer, the
//! filter and the sort work through crossterm, and that `q` gives the
//! terminal back. The same walk on the real binary against real zones is
//! console_real.rs. Fails when tmux is not installed.

mod tmux;

use std::path::PathBuf;
use std::time::Duration;
use tmux::{Session, drive};

fn synthetic() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_ztop"));
    let ex = bin.parent().unwrap().join("examples/synthetic");
    assert!(
        ex.exists(),
        "{} is not built (cargo test builds examples)",
        ex.display()
    );
    ex
}

#[test]
fn boot_halt_filter_sort_and_quit_in_a_real_terminal() {
    let s = Session::start(
        &format!("ztop-test-{}-spare", std::process::id()),
        110,
        32,
        &synthetic().display().to_string(),
    );
    drive(&s, "spare", Duration::from_secs(1));
}

#[test]
fn dialog_cancel_errors_and_processes_in_a_real_terminal() {
    let s = Session::start(
        &format!("ztop-test-{}-web", std::process::id()),
        100,
        30,
        &synthetic().display().to_string(),
    );
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
