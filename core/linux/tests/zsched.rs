//! The zsched binary as the runtime finds it: built beside the tools
//! (`cargo test --workspace` builds it because this crate has this
//! integration test), and refusing to be run by hand.

use std::process::Command;

#[test]
fn zsched_run_by_hand_names_its_two_modes_and_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_zsched"))
        .output()
        .expect("run zsched");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "zsched: run by the zones runtime only (zsched launch | zsched supervise ...)\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn zsched_with_an_unknown_mode_is_refused_the_same_way() {
    let out = Command::new(env!("CARGO_BIN_EXE_zsched"))
        .arg("start")
        .output()
        .expect("run zsched");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("zsched: run by the zones runtime only")
    );
}
