//! zoned's reread of the configuration runs off its signal loop and can
//! be cancelled (issue 14 item 11): SIGTERM during a reread of a huge
//! file, or of a FIFO that no one writes (a reread that would never end),
//! stops zoned within 2 s; a SIGHUP during a reread cancels it, and only
//! the newest file is applied.

mod common;

use common::*;
use std::io::Write;
use std::time::{Duration, Instant};

/// A jail.conf of `jails` jails: about 70 bytes each.
fn huge(path: &std::path::Path, jails: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "* {{ persist; host.hostname = \"$name.example\"; }}").unwrap();
    for i in 0..jails {
        writeln!(
            f,
            "j{i} {{ path = \"/zones/j{i}\"; exec.start = \"/bin/sh /etc/rc\"; }}"
        )
        .unwrap();
    }
    f.flush().unwrap();
}

/// Wait until the log holds `what` (at most 20 s).
async fn logged(host: &Host, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !host.log().contains(what) {
        assert!(
            Instant::now() < deadline,
            "waiting for {what:?}:\n{}",
            host.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// SIGTERM zoned and return how long it took to exit, and its status.
fn term_and_time(host: &mut Host) -> (Duration, std::process::ExitStatus) {
    let d = &mut host.daemons[0];
    // SAFETY: kill(2) on the pid of a child this test started and has
    // not reaped.
    unsafe { libc::kill(d.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    loop {
        if let Some(st) = d.try_wait().unwrap() {
            return (t.elapsed(), st);
        }
        if t.elapsed() > Duration::from_secs(30) {
            let _ = d.kill();
            panic!("zoned ignored SIGTERM for 30 s:\n{}", host.log());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn hup(host: &Host) {
    // SAFETY: as in term_and_time.
    unsafe { libc::kill(host.daemons[0].id() as i32, libc::SIGHUP) };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_the_reread_of_a_huge_file_stops_zoned_within_2_s() {
    let mut host = Host::with_config("reload-huge", &[], &sleeper("r1", ""));
    host.start_zoned();
    wait_for(&host, "r1 configured", |s| s.configured.len() == 1).await;
    // 300,000 jails, about 20 MB: seconds of parsing in a debug build.
    huge(&host.dir.path().join("jail.conf"), 300_000);
    hup(&host);
    logged(&host, "SIGHUP: rereading the configuration").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (took, st) = term_and_time(&mut host);
    let log = host.log();
    assert!(st.success(), "{st}:\n{log}");
    assert!(took < Duration::from_secs(2), "took {took:?}:\n{log}");
    // The reread was still running when SIGTERM came: it never finished.
    assert!(
        !log.contains("configured=300000") && !log.contains("configuration not changed"),
        "the reread had finished before SIGTERM: the test proves nothing:\n{log}"
    );
    assert!(log.contains("zoned stopping"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_reread_that_never_ends_stops_zoned_within_2_s() {
    let mut host = Host::with_config("reload-fifo", &[], &sleeper("r1", ""));
    host.start_zoned();
    wait_for(&host, "r1 configured", |s| s.configured.len() == 1).await;
    // The file becomes a FIFO that no one opens for writing: reading it
    // blocks for ever.
    let conf = host.dir.path().join("jail.conf");
    std::fs::remove_file(&conf).unwrap();
    let c = std::ffi::CString::new(conf.display().to_string()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    hup(&host);
    logged(&host, "SIGHUP: rereading the configuration").await;
    // zoned still answers while the reread hangs.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = snapshot(&host.socket()).await;
    assert_eq!(s.configured.len(), 1, "the configuration in force stays");
    let (took, st) = term_and_time(&mut host);
    assert!(st.success(), "{st}:\n{}", host.log());
    assert!(
        took < Duration::from_secs(2),
        "took {took:?}:\n{}",
        host.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sighup_during_a_reread_cancels_it_and_the_newest_file_wins() {
    let mut host = Host::with_config("reload-twice", &[], &sleeper("r1", ""));
    host.start_zoned();
    wait_for(&host, "r1 configured", |s| s.configured.len() == 1).await;
    huge(&host.dir.path().join("jail.conf"), 300_000);
    hup(&host);
    logged(&host, "SIGHUP: rereading the configuration").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    host.write_config(&[sleeper("r2", ""), sleeper("r3", "")].concat());
    hup(&host);
    logged(
        &host,
        "the reread of the configuration in progress is cancelled",
    )
    .await;
    let s = wait_for(&host, "r2 and r3 configured", |s| {
        let mut v: Vec<&str> = s.configured.iter().map(|c| c.name.as_str()).collect();
        v.sort();
        v == ["r2", "r3"]
    })
    .await;
    assert_eq!(s.configured.len(), 2);
    // The cancelled reread is never applied, even once it stops.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(snapshot(&host.socket()).await.configured.len(), 2);
    assert!(!host.log().contains("configured=300000"), "{}", host.log());
    let (took, st) = term_and_time(&mut host);
    assert!(
        st.success() && took < Duration::from_secs(2),
        "{took:?} {st}"
    );
}
