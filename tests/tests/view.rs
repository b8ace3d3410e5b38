//! Issue 16, end to end, as root: what a process inside a real zone reads
//! of its own load, uptime, memory and CPUs (view.md), and that nothing
//! new reaches the host through it.
//!
//! The tests that need no engine use [`TestZone`] (the runtime alone: the
//! files hold the launcher's first values — the caps, the CPUs, the
//! zone's clock); those about load averages and `kill -9` of zoned run a
//! private zoned ([`Host`]) as counters.rs does.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zones::param::Value;
use zones::snapshot::{Snapshot, ZoneSnapshot};
use zones_e2e::{TestZone, bin};

const MIB: u64 = 1 << 20;

fn num(s: &str) -> u64 {
    s.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// The value of `key` in a `/proc/meminfo` text, kB.
fn meminfo_kb(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k == key).then(|| num(v.trim().trim_end_matches(" kB")))
        })
        .unwrap_or_else(|| panic!("{key} in {text}"))
}

fn ok(z: &TestZone, line: &str) -> String {
    let out = z.sh(line);
    assert_eq!(out.status, 0, "{line}: {out:?}");
    out.stdout
}

/// The Mem: line of `free -b`: (total, used).
fn free_mem(text: &str) -> (u64, u64) {
    let l = text
        .lines()
        .find(|l| l.starts_with("Mem:"))
        .unwrap_or_else(|| panic!("free -b printed {text}"));
    let f: Vec<&str> = l.split_whitespace().collect();
    (num(f[1]), num(f[2]))
}

#[test]
fn memory_cap_cpus_and_clock_seen_inside_without_an_engine() {
    let mut z = TestZone::sparse("viewmem");
    z.set("capped-memory.physical", Value::Int(256 * MIB as i64));
    z.set("zone.max-swap", Value::Int(320 * MIB as i64));
    z.set("zone.cpu-cap", Value::Int(150));
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("100000".into()));
    z.ready().unwrap();
    z.boot().unwrap();
    let booted = Instant::now();

    // free: the cap, and swap lines from zone.max-swap (320M − 256M).
    let free = ok(&z, "free -b");
    assert_eq!(free_mem(&free).0, 268_435_456, "{free}");
    let swap: Vec<&str> = free
        .lines()
        .find(|l| l.starts_with("Swap:"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(num(swap[1]), 64 * MIB, "{free}");
    let swaps = ok(&z, "cat /proc/swaps");
    assert_eq!(swaps.lines().count(), 2, "{swaps}");

    // cpu-cap 150: two CPUs in cpuinfo and cpu/online.
    let cpuinfo = ok(&z, "grep -c ^processor /proc/cpuinfo");
    assert_eq!(num(&cpuinfo), 2);
    assert_eq!(ok(&z, "cat /sys/devices/system/cpu/online").trim(), "0-1");

    // The zone's clock: /proc/uptime and CLOCK_BOOTTIME are the zone's age.
    let up = ok(&z, "cat /proc/uptime");
    let up: f64 = up.split_whitespace().next().unwrap().parse().unwrap();
    let age = booted.elapsed().as_secs_f64();
    assert!(up <= age + 1.5, "uptime {up} for a zone {age:.2} s old");
    let host_up: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(host_up > age + 10.0, "the host is older than the zone");

    // ps -o lstart of zsched (pid 1) and of init, inside and outside.
    let h = z.handle();
    for host_pid in [h.zsched_pid, h.init_pid] {
        let status = std::fs::read_to_string(format!("/proc/{host_pid}/status")).unwrap();
        let ns_pid = status
            .lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .and_then(|v| v.split_whitespace().last())
            .unwrap()
            .to_string();
        let inside = ok(&z, &format!("ps -o lstart= -p {ns_pid}"));
        let outside = Command::new("ps")
            .args(["-o", "lstart=", "-p", &host_pid.to_string()])
            .output()
            .unwrap();
        let outside = String::from_utf8_lossy(&outside.stdout);
        assert!(!inside.trim().is_empty());
        assert_eq!(
            inside.trim(),
            outside.trim(),
            "pid {host_pid} (in the zone {ns_pid})"
        );
    }
}
