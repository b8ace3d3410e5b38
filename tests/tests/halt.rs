//! Halt always finishes (security.md): whatever root in a zone leaves
//! behind — System V shared memory (attached and not), a semaphore set, a
//! message queue, a POSIX message queue, a process that ignores SIGTERM, a
//! stopped one, a zombie storm, stacked mounts, a pid namespace of its own,
//! a mount namespace of its own, a child frozen in a freezer cgroup of its
//! own — the engine's halt returns well within its
//! timeout, and nothing of the zone is left: no process, no cgroup, no
//! control socket, no record in the engine. Repeated, with the same name.
//!
//! The halts go through the engine (create, boot, halt), because the
//! wedge was there: destroy waits for the zone's references to drain, and
//! an IPC object nobody removed held them until EBUSY.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zones::engine::{Caller, Engine, EngineConfig};
use zones::param::{Params, Value};
use zones::zone::ZoneId;
use zones_e2e::*;

/// Destroy's drain timeout in these tests: a halt that waited for it
/// would take this long and fail with EBUSY.
const DRAIN: Duration = Duration::from_secs(30);
/// What a halt may take here (SIGKILL, reaping, unmounting, removing).
const HALT_WITHIN: Duration = Duration::from_secs(10);

fn engine_for(z: &TestZone) -> Engine {
    let rt = z.new_runtime();
    Engine::new(
        Arc::new(rt),
        EngineConfig {
            destroy_timeout: DRAIN,
            ..Default::default()
        },
    )
}

/// Wait for a file the zone writes; on failure show the zone's console.
fn wait_file(z: &TestZone, p: &Path, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Ok(s) = std::fs::read_to_string(p) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(z.tmp.path().join("console.log")).unwrap_or_default();
    panic!("{} did not appear in {secs} s; console: {log}", p.display());
}

/// Create and boot `script` (run by /bin/sh as the zone's command) in
/// the zone of `z` through `engine`; wait for `ready` in the zone's /tmp.
async fn boot_script(
    engine: &Engine,
    z: &TestZone,
    script: &str,
    extra: &[(&str, Value)],
) -> ZoneId {
    let mut p = Params::new();
    p.insert("name", Value::Str(z.spec.name.to_string()));
    p.insert("path", Value::Str(z.spec.root.display().to_string()));
    p.insert("brand", Value::Str("sparse".into()));
    p.insert("persist", Value::Bool(true));
    p.insert(
        "exec.consolelog",
        Value::Str(z.tmp.path().join("console.log").display().to_string()),
    );
    p.insert(
        "command",
        Value::List(vec!["/bin/sh".into(), "-c".into(), script.into()]),
    );
    for (k, v) in extra {
        p.insert(k, v.clone());
    }
    for f in ["ready", "frozen"] {
        let _ = std::fs::remove_file(z.spec.root.join("tmp").join(f));
    }
    let id = engine.create(&Caller::ROOT, p).await.expect("create");
    engine.boot(&Caller::ROOT, id).await.expect("boot");
    id
}

/// Halt and check that nothing of the zone is left.
async fn halt_and_check(engine: &Engine, z: &TestZone, id: ZoneId, zsched: u32) {
    // The zone's pid namespace, to find what is left of it afterwards.
    let ns = zones_e2e::pid_ns(zsched).expect("zsched's pid namespace");
    // The check below sees the zone's processes (it would see any left).
    assert!(
        zones_e2e::procs_in_ns(&ns).contains(&zsched),
        "zsched {zsched} not found in its own pid namespace"
    );
    let t = Instant::now();
    let r = engine.halt(&Caller::ROOT, id).await;
    let took = t.elapsed();
    assert!(r.is_ok(), "halt failed after {took:?}: {r:?}");
    assert!(took < HALT_WITHIN, "halt took {took:?}");
    assert!(engine.lookup(&Caller::ROOT, z.spec.name.as_str()).is_err());
    // Gone, or a zombie its reaper has not collected yet.
    assert!(
        zones_linux::runtime::linux::launch::start_time(zsched).is_none(),
        "zsched {zsched} is still there"
    );
    z.assert_gone(&ns, "halt");
    assert!(
        host_mounts_under(&z.spec.root).is_empty(),
        "{:?}",
        host_mounts_under(&z.spec.root)
    );
}

fn zsched_of(engine: &Engine, id: ZoneId) -> u32 {
    engine
        .snapshot()
        .zones
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.zsched_pid)
        .expect("zone in the snapshot")
}

/// What the zone leaves in its IPC namespace and process table; writes
/// `ipcs` output to /tmp/ready once everything is in place.
const LEFTOVERS: &str = r#"
set -e
rm -f /tmp/attached /tmp/zombies /tmp/mq
ipcmk -M 4096 >/dev/null
ipcmk -S 2 >/dev/null
ipcmk -Q >/dev/null
# A segment attached by a process that lives until halt.
perl -e '$id = shmget(0, 65536, 01600); defined $id or exit 1;
         syscall(30, $id + 0, 0, 0) == -1 and exit 1;
         open F, ">/tmp/attached"; close F; sleep 1000' &
# A POSIX message queue (the mq_open system call: no leading slash).
perl -e 'my $q = "zones-halt-q"; syscall(240, $q, 0102, 0600, 0) >= 0 or exit 1;
         open F, ">/tmp/mq"; close F'
# One that ignores SIGTERM, one stopped, a parent of 200 zombies.
sh -c 'trap "" TERM; while :; do sleep 1; done' &
sleep 1000 & kill -STOP $!
perl -e 'for (1..200) { fork or exit } open F, ">/tmp/zombies"; close F; sleep 1000' &
until [ -e /tmp/attached ] && [ -e /tmp/zombies ]; do sleep 0.05; done
ipcs > /tmp/ready.tmp
mv /tmp/ready.tmp /tmp/ready
exec sleep 1000
"#;

#[test]
fn ipc_objects_and_stubborn_processes_do_not_wedge_halt_and_nothing_is_left() {
    let z = TestZone::sparse("halt");
    let rt = tokio();
    rt.block_on(async {
        let engine = engine_for(&z);
        for round in 0..3 {
            let id = boot_script(&engine, &z, LEFTOVERS, &[]).await;
            let zsched = zsched_of(&engine, id);
            let ipcs = wait_file(&z, &z.spec.root.join("tmp/ready"), 20);
            let objects = ipcs.lines().filter(|l| l.starts_with("0x")).count();
            // Two segments (one attached), a semaphore set, a queue.
            assert_eq!(objects, 4, "round {round}: {ipcs}");
            assert!(ipcs.contains("65536"), "{ipcs}");
            assert!(z.spec.root.join("tmp/mq").exists(), "no POSIX queue made");
            halt_and_check(&engine, &z, id, zsched).await;
        }
    });
}

/// A zone allowed to mount: stacked mounts, a mount beneath a mount, a
/// process in a pid namespace of its own and one in a mount namespace of
/// its own, a child frozen in a freezer cgroup of its own.
const MOUNTS: &str = r#"
set -e
mkdir -p /tmp/m /tmp/n
mount -t tmpfs a /tmp/m
mount -t tmpfs b /tmp/m
mkdir /tmp/m/x
mount -t tmpfs c /tmp/m/x
mount -t tmpfs d /tmp/n
unshare -fp --mount-proc sleep 1000 &
unshare -m sh -c 'mount -t tmpfs e /tmp/n; exec sleep 1000' &
# A child frozen in a freezer cgroup of the zone's own (v1 hosts: a
# process frozen there does not die of SIGKILL until thawed).
if [ -d /sys/fs/cgroup/freezer ] || grep -qw freezer /proc/cgroups; then
  mkdir -p /tmp/fz
  if mount -t cgroup -o freezer fz /tmp/fz 2>/dev/null; then
    mkdir /tmp/fz/ice
    sh -c 'echo $$ > /tmp/fz/ice/cgroup.procs; exec sleep 1000' &
    sleep 0.2
    echo FROZEN > /tmp/fz/ice/freezer.state
    touch /tmp/frozen
  fi
fi
grep -c tmpfs /proc/self/mountinfo > /tmp/ready.tmp
mv /tmp/ready.tmp /tmp/ready
exec sleep 1000
"#;

#[test]
fn mounts_and_namespaces_a_zone_made_do_not_wedge_halt() {
    let z = TestZone::sparse("haltmnt");
    let rt = tokio();
    rt.block_on(async {
        let engine = engine_for(&z);
        for _ in 0..2 {
            let id = boot_script(&engine, &z, MOUNTS, &[("allow.mount", Value::Bool(true))]).await;
            let zsched = zsched_of(&engine, id);
            let n: usize = wait_file(&z, &z.spec.root.join("tmp/ready"), 20)
                .trim()
                .parse()
                .unwrap();
            // /dev, /dev/shm and the four above at least.
            assert!(n >= 6, "{n} tmpfs mounts");
            if Path::new("/sys/fs/cgroup/freezer").is_dir() {
                assert!(
                    z.spec.root.join("tmp/frozen").exists(),
                    "the zone could not freeze a child on this v1 host"
                );
            }
            halt_and_check(&engine, &z, id, zsched).await;
        }
    });
}

/// keyctl(2) on this thread: (operation, args) → result or -errno.
fn keyctl(op: libc::c_long, a: libc::c_long, b: libc::c_long) -> libc::c_long {
    // SAFETY: integer arguments only (the operations used take no buffer).
    let r = unsafe { libc::syscall(libc::SYS_keyctl, op, a, b) };
    if r < 0 {
        -(std::io::Error::last_os_error().raw_os_error().unwrap_or(0) as libc::c_long)
    } else {
        r
    }
}

#[test]
fn a_zone_has_a_session_keyring_of_its_own_not_its_creators() {
    const KEYCTL_GET_KEYRING_ID: libc::c_long = 0;
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
    // This test thread gets a keyring of its own (creds are per thread),
    // with a secret in it, and makes the zone from this thread.
    assert!(keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0, 0) > 0);
    let (ty, desc, secret) = (c"user", c"zones-host-secret", b"do-not-read");
    // SAFETY: add_key with NUL-terminated type and description and a
    // payload valid for its length.
    let key = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            ty.as_ptr(),
            desc.as_ptr(),
            secret.as_ptr(),
            secret.len(),
            KEY_SPEC_SESSION_KEYRING,
        )
    };
    assert!(key > 0, "add_key: {}", std::io::Error::last_os_error());
    let host_ring = keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    // The zone's init reports its session keyring's id (keyctl 0) and a
    // search for the host's key in it (keyctl 10, KEYCTL_SEARCH).
    let mut z = TestZone::sparse("keyring");
    z.set(
        "command",
        Value::List(vec![
            "/usr/bin/perl".into(),
            "-e".into(),
            r#"my ($t, $d) = ("user", "zones-host-secret");
               my $ring = syscall(250, 0, -3, 0);
               my $found = syscall(250, 10, -3, $t, $d, 0);
               open F, ">/tmp/keys.tmp"; print F "$ring $found\n"; close F;
               rename "/tmp/keys.tmp", "/tmp/keys"; sleep 1000"#
                .into(),
        ]),
    );
    z.ready().expect("ready");
    z.boot().expect("boot");
    let out = wait_file(&z, &z.spec.root.join("tmp/keys"), 10);
    let v: Vec<i64> = out.split_whitespace().map(|x| x.parse().unwrap()).collect();
    assert_ne!(
        v[0], host_ring,
        "the zone shares its creator's session keyring"
    );
    assert_eq!(v[1], -1, "the zone found the host's key {key}: {out}");
    z.halt();
}
