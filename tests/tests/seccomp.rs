//! Every process of a booted zone runs under the system call filter
//! (zones_linux::runtime::linux::seccomp): init (started by zsched) and an
//! entered process show `Seccomp: 2` in /proc/PID/status, and keyctl,
//! which reads the host's keyrings when nothing stops it, fails inside with
//! the filter's ENOSYS while it works for the host. zsched itself is not
//! filtered (it mounts and unmounts for the zone).
//!
//! These tests need the filter wired in where zone code starts (zsched
//! before init and hooks, enter before the user's command): until
//! `Filter::apply` is called there they fail, which is their point.

use zones_e2e::*;
use zones_linux::runtime::linux::seccomp;

fn booted(tag: &str, allow: &[&str]) -> TestZone {
    TestZone::booted_allowing(tag, allow)
}

/// keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) through perl
/// (the host's /usr is the sparse zone's): prints the result and errno.
const KEYCTL: &str = "my $r = syscall(250, 0, -3, 0); print $r, \" \", $!+0";

fn keyctl_line(out: &str) -> (i64, i32) {
    let mut it = out.split_whitespace();
    let r = it.next().and_then(|v| v.parse().ok()).expect("result");
    let e = it.next().and_then(|v| v.parse().ok()).expect("errno");
    (r, e)
}

#[test]
fn init_and_entered_processes_are_filtered_and_keyctl_fails_inside() {
    let mut z = booted("seccomp", &[]);
    let init = z.handle().init_pid;
    assert!(init > 0, "no init");
    let (mode, filters) = seccomp::status(init).expect("init's status");
    assert_eq!(
        mode, 2,
        "init (host pid {init}) of zone {} runs without the seccomp filter \
         (Seccomp: {mode}); is Filter::apply wired into zsched?",
        z.spec.name
    );
    assert!(filters >= 1, "Seccomp_filters: {filters}");

    // zsched, pid 1 in the zone, must stay unfiltered (it mounts).
    let zsched = z.handle().zsched_pid;
    let (zmode, _) = seccomp::status(zsched).expect("zsched's status");
    assert_eq!(zmode, 0, "zsched itself is filtered");

    // An entered process.
    let o = z.sh("grep -E '^Seccomp(_filters)?:' /proc/self/status");
    assert_eq!(o.status, 0, "{o:?}");
    assert!(
        o.stdout
            .lines()
            .any(|l| l.split_whitespace().eq(["Seccomp:", "2"])),
        "an entered process runs without the filter; is Filter::apply wired \
         into enter? {o:?}"
    );

    // The host reads its keyring; the zone gets ENOSYS.
    let host = std::process::Command::new("/usr/bin/perl")
        .args(["-e", KEYCTL])
        .output()
        .expect("perl on the host");
    let (hr, he) = keyctl_line(&String::from_utf8_lossy(&host.stdout));
    assert!(
        hr > 0,
        "keyctl fails on the host too ({hr}, errno {he}): the check proves nothing"
    );
    let o = z.run(&["/usr/bin/perl", "-e", KEYCTL]);
    assert_eq!(o.status, 0, "{o:?}");
    let (r, e) = keyctl_line(&o.stdout);
    assert_eq!(
        (r, e),
        (-1, libc::ENOSYS),
        "keyctl inside zone {} was not refused by the filter: {o:?}",
        z.spec.name
    );
    z.halt();
}

#[test]
fn allow_mount_zone_is_filtered_too_and_keyrings_stay_closed() {
    // An exception opens its own calls only: keyctl stays refused.
    let mut z = booted("seccomp-mnt", &["allow.mount"]);
    let (mode, _) = seccomp::status(z.handle().init_pid).expect("init's status");
    assert_eq!(mode, 2, "init of an allow.mount zone runs unfiltered");
    let o = z.run(&["/usr/bin/perl", "-e", KEYCTL]);
    assert_eq!(keyctl_line(&o.stdout), (-1, libc::ENOSYS), "{o:?}");
    // mount(2) is opened (allow.mount keeps CAP_SYS_ADMIN): a tmpfs on
    // the zone's /mnt works.
    z.install_probe();
    let o = z.probe(&["mount"]);
    assert_eq!(o.status, 0, "mount failed in an allow.mount zone: {o:?}");
    z.halt();
}
