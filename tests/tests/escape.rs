//! # The escape suite: a zone is a boundary (security.md)
//!
//! Root in a booted sparse zone attacks the host the way runc, crun and
//! LXC have been attacked in public, and then the administrator runs our
//! tools (zoneadm install / clone / boot / halt, zlogin, jexec, the tests'
//! zenter) on what the zone left. Every attack runs as root inside a real
//! zone (the `zattack` binary of this package, copied into the zone root),
//! and every one must fail. A failure is checked by its effect on the
//! host — the host file unchanged, the marker not written, the signal not
//! delivered, the key not read, the connection not accepted — and only
//! where the kernel leaves no effect the host can see (a bpf program
//! loaded and closed at once) by what the attack itself saw.
//!
//! Most attacks run against three zones booted once per test process
//! ([`shared_zone`]): a default zone (with zone.max-locked-memory=0), a
//! zone with allow.raw_sockets, allow.settime, allow.sysvipc and
//! allow.mlock, and a zone with allow.mount, to show that each allow.*
//! opens what it names and nothing else (the `a*` tests show what it
//! opens; every attack of the table marked "both" must fail in all three
//! zones). A fourth shared zone is the "other zone" the attacks try to
//! reach.
//!
//! **allow.mount keeps CAP_SYS_ADMIN (config.md), over the zone's own
//! user namespace** (`zones_linux::runtime::linux::userns`): the zone's root is
//! host uid BASE, its root and host trees are idmapped, the mounts the
//! host made are locked. So the kernel itself refuses what that
//! capability would open on the host's user namespace — a fresh proc and
//! the host's sysctls (k05), the new mount API's ways around a read-only
//! mount (k14, whose calls the filter lets through for allow.mount), a
//! cgroup file system's view of the zone's own limits (k15) — and every
//! attack of the table marked "both", the filter's rows included, holds
//! in the allow.mount zone too. a08 shows what the zone sees of its ids
//! and its mounts.
//!
//! Attacks that change a zone
//! or need the admin tools get their own zone, or a private [`ToolWorld`]
//! (jail.conf, embedded engine, state dir and cgroup root of their own).
//! Attacks on host-wide kernel state run one at a time and restore what
//! they find changed.
//!
//! | id | class | attack | checked on the host |
//! |----|-------|--------|---------------------|
//! | f01 | host files | zenter run with a host directory (fd 9) and a host file (fd 10) open: scan every /proc/N/fd of the zone, create through dirs, append through files | marker absent in the dir and its parent, file unchanged |
//! | f02 | host files | the same through `zlogin` | same |
//! | f03 | host files | the same through `jexec` | same |
//! | f04 | host files | `zoneadm boot` run with those descriptors open: zsched and init inherit them; scanned from a zlogin'd process | same |
//! | f05 | host files | CVE-2019-5736 / joining process: while the host enters the zone 25 times (a copy of zenter), grab /proc/PID/exe and host descriptors of each entering process, then write through the exe | the zenter copy unchanged, marker absent, nothing grabbed |
//! | f06 | host files (both) | open_by_handle_at with the file handle of a host file | its secret not read |
//! | f07 | host files (both) | chroot-in-chroot with a held fd, then create/read at a host path; unshare(CLONE_NEWNS) for pivot_root | marker absent, secret not read |
//! | f08 | host files (both) | /proc/N/cwd and /proc/N/root of a host process (N its host pid) | marker absent |
//! | w01 | host writes | `zoneadm install` again over a root whose /etc the zone made a symlink to a host directory | the directory stays empty |
//! | w02 | host writes | the same with /etc/passwd and /etc/shadow symlinks to host files | host files unchanged / not made |
//! | w03 | host writes | `zoneadm clone` of a zone whose /etc is a symlink to a host directory (etc/hostname) | directory stays empty |
//! | w04 | host writes | nested install of a child root the parent zone made a symlink to a host directory | directory stays empty |
//! | w05 | host writes | nested ready/boot of a child whose root the parent made a symlink to another root | the other root's secret not read, marker absent |
//! | w06 | host writes | boot with a `mount` line whose target runs through a symlink the zone planted | no directory made on the host |
//! | p01 | privilege | a setuid-root binary planted in a zoneadm-installed zone, run by uid 65534 on the host through the zone path | no marker in a root-only directory |
//! | p02 | privilege | the same with a file capability (cap_dac_override) | same |
//! | p03 | privilege (both) | setxattr security.capability in the zone (CAP_SETFCAP) | the host sees no capability on the file |
//! | p04 | privilege | boot of a zone whose root host users can reach (its parent 0755) | boot refused |
//! | k01 | kernel (both) | read a key the host's root added to its user keyring | payload not read |
//! | k02 | kernel (both) | add a key to root's user keyring | the host's @u has no such key |
//! | k03 | kernel (both) | i386 ABI: getpid and keyctl through int 0x80 | ABI refused, payload not read |
//! | k04 | kernel (both) | x32 ABI system call numbers | refused (this kernel has no x32: holds trivially) |
//! | k05 | kernel (both) | raise a host sysctl (kernel.printk_ratelimit_burst): write, remount /proc/sys, a new proc mount (and its sysrq-trigger), an fsmount'ed proc | host value unchanged |
//! | k06 | kernel (both) | write a sysfs attribute (printk time): write, remount /sys, a new sysfs | host value unchanged |
//! | k07 | kernel (both) | kernel log: read the host's marker (syslog, /proc/kmsg, mknod /dev/kmsg), write a marker | host marker not seen, zone marker not in the host's log |
//! | k08 | kernel (both) | module loading: init_module, finit_module, delete_module | refused (this kernel has no modules: holds trivially) |
//! | k09 | kernel (both) | bpf: PROG_LOAD, MAP_CREATE | refused |
//! | k10 | kernel (both) | perf_event_open: self, and every process on cpu 0 | refused |
//! | k11 | kernel (both) | userfaultfd (with and without UFFD_USER_MODE_ONLY) | refused |
//! | k12 | kernel (both) | kexec_load, kexec_file_load, reboot(CAD_OFF) | refused; kernel.ctrl-alt-del unchanged |
//! | k13 | kernel (default) | clock_settime, adjtimex | refused (allow.settime opens it: a03) |
//! | k14 | kernel (both) | the new mount API: fsopen, open_tree(OPEN_TREE_CLONE), fspick (refused by the filter without allow.mount); a fresh proc through fsmount, fspick(/proc) + reconfigure, a clone of /proc/sys made read-write with mount_setattr, cgroup2 through fsmount | host sysctl unchanged, none got through |
//! | k15 | kernel (both) | mount cgroup v1/v2 and raise the zone's own pids.max | host pids.max unchanged |
//! | k16 | kernel (both) | unshare(CLONE_NEWUSER) regaining a full set, clone3(CLONE_NEWUSER) | refused |
//! | k17 | kernel (both) | io_uring_setup (system calls past a filter) | refused |
//! | k18 | kernel (both) | personality ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, MMAP_PAGE_ZERO | refused |
//! | k19 | kernel | TIOCSTI into the caller's terminal (zenter run on a host pty as its controlling terminal) | nothing injected into the host's terminal |
//! | k20 | kernel, host files | init itself (the boot path, not an enter) reads the host's key, makes a user namespace, io_uring, scans descriptors, writes a host path | payload not read, marker absent, all refused |
//! | o01 | other zones/host (both) | kill and pidfd_send_signal a host process by its pid | still alive |
//! | o02 | other zones/host (both) | the same to another zone's init | still alive |
//! | o03 | other zones/host (both) | ptrace and process_vm_readv a host process and another zone's init | not traced |
//! | o04 | other zones/host (both) | SysV shm/msg/sem of the host (its key) | secret not read |
//! | o05 | other zones/host (both) | SysV shm of another zone | secret not read |
//! | o06 | other zones/host (both) | connect to a host abstract Unix socket | not accepted |
//! | o07 | other zones/host (both) | connect to another zone's abstract Unix socket | not accepted |
//! | o08 | other zones/host (both) | connect to a host path Unix socket (its path, /proc/N/root) | not accepted |
//! | o09 | other zones/host (both) | connect to a host TCP service on 127.0.0.1 | not accepted |
//! | o10 | other zones/host (both) | connect to another zone's TCP service on 127.0.0.1 | not accepted |
//! | o11 | other zones/host (both) | send to a host UDP socket on 127.0.0.1 | nothing received |
//! | o12 | other zones/host (both) | /proc/net/unix shows the host's socket paths | name not shown |
//! | l01 | limits | fork bomb from a zlogin'd process under zone.max-processes=20 | stops at the cap |
//! | l02 | limits | mlock in a zenter'd process under zone.max-locked-memory=0 | refused |
//! | l03 | limits | the same from a zlogin'd process | refused |
//! | l07 | limits | touch 256 MiB from a zlogin'd process under capped-memory.physical = 64 MiB | killed before the end |
//! | l04 | limits | System V objects left by the zone, then `zoneadm halt` | halt succeeds within 20 s, zone gone |
//! | l05 | limits | a process that ignores signals and left its session, then halt | nothing of the zone runs after halt |
//! | l06 | limits | (allow.mount) a busy tmpfs mount with a process in it, then halt | halt finishes, nothing left |
//! | a01 | allow.raw_sockets | opens a raw socket (keyrings etc. stay refused: k01..) | — |
//! | a02 | allow.mount | mounts a tmpfs (every attack marked "both" holds in the allow.mount zone too: module comment) | — |
//! | a03 | allow.settime | sets the clock (kexec, modules, bpf stay refused) | — |
//! | a04 | allow.sysvipc | makes SysV objects in its own namespace (the host's stay out: o04) | — |
//! | a05 | allow.mlock | locks memory | — |
//! | a06 | (no regression) | a setuid-root program made in the zone still gives a user of the zone euid 0 (no no_new_privs, su/passwd/ping keep working), in the default and the allow.mount zone (idmapped root) | — |
//! | a07 | ip4 = inherit | shares the host's loopback (a host TCP service is reached) and nothing more (keyrings, raw sockets stay refused) | key not read |
//! | a08 | allow.mount | its own user namespace: `id` 0 inside, uid_map `0 BASE 65536`, zsched host uid BASE; `ls -ln` of /, /etc, /usr, /dev … shows 0; files it makes are stored with its ids; host setuid programs keep owner and bit; a host-made mount (a /proc mask, read-only /usr) cannot be unmounted or remounted | ids on disk |
//! | a09 | allow.mount | counted (the host-made mounts are not its references, one it makes is), adopted by a new runtime, entered as a user, drained by down, halted leaving nothing | refs, cgroups, processes, mounts |
//! | a10 | allow.mount | its network and UTS namespaces are its user namespace's: a vnet interface moved in, allow.set_hostname and allow.raw_sockets work in it | host name unchanged |
//! | a11 | allow.mount | whole roots: an empty one boots as far as exec init; a jail rooted at / runs in its own user namespace, the host's files nobody's to it | /etc not written |
//! | a12 | allow.mount | `mount` lines (a host directory bound read-write, a tmpfs) are idmapped as the root: host ids are the zone's, what it writes is stored with its ids; locked | ids on disk |
//! | p05 | privilege | jail(8) `jail -c path=ROOT` with ROOT in a directory host users traverse: a setuid-root binary planted inside, run by uid 65534 | refused, or no marker in a root-only directory |
//!
//! Not repeated here because other tests already hold them: the memory
//! cap of a zenter'd process and the cpu cap (limits.rs), /proc masks,
//! sysrq and core_pattern through the zone's own /proc, kill -1
//! (isolation.rs).
//!
//! Two attacks hold trivially on a kernel built without what they use
//! (this one has neither x32 nor loadable modules nor kexec): k04, k08
//! and the kexec half of k12 then only show that the call is refused.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zones::param::Value;
use zones::zone::{Brand, ZoneName};
use zones_e2e::*;
use zones_linux::runtime::linux::{install, launch, userns};

// ---------------------------------------------------------------- fixtures

fn default_zone() -> &'static TestZone {
    shared_zone("escdef", &[("zone.max-locked-memory", Value::Int(0))])
}

fn allow_zone() -> &'static TestZone {
    shared_zone(
        "escallow",
        &[
            ("allow.raw_sockets", Value::Bool(true)),
            ("allow.settime", Value::Bool(true)),
            ("allow.sysvipc", Value::Bool(true)),
            ("allow.mlock", Value::Bool(true)),
        ],
    )
}

/// allow.mount alone: CAP_SYS_ADMIN kept, the mount calls let through
/// the filter (module comment).
fn mount_zone() -> &'static TestZone {
    shared_zone("escmount", &[("allow.mount", Value::Bool(true))])
}

fn other_zone() -> &'static TestZone {
    shared_zone("escother", &[])
}

/// One attack on host-wide kernel state at a time.
static HOST_STATE: Mutex<()> = Mutex::new(());

fn host_state() -> std::sync::MutexGuard<'static, ()> {
    HOST_STATE.lock().unwrap_or_else(|e| e.into_inner())
}

static UNIQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// A name no other attack uses.
fn uniq(tag: &str) -> String {
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        UNIQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

/// The host's side of an attack: a private directory (0700) holding
/// `host/` (what the attacker aims at, with a `secret` in it) and a host
/// file `hostfile`.
struct Decoy {
    dir: tempfile::TempDir,
    secret: String,
}

impl Decoy {
    fn new() -> Decoy {
        let dir = tempfile::Builder::new()
            .prefix("zones-e2e-decoy-")
            .tempdir()
            .unwrap();
        let secret = uniq("host-secret");
        std::fs::create_dir(dir.path().join("host")).unwrap();
        std::fs::write(dir.path().join("host/secret"), &secret).unwrap();
        std::fs::write(dir.path().join("hostfile"), "host file\n").unwrap();
        Decoy { dir, secret }
    }
    fn host(&self) -> PathBuf {
        self.dir.path().join("host")
    }
    fn host_str(&self) -> String {
        self.host().display().to_string()
    }
    /// Files in host/ other than the secret.
    fn written(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.host())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "secret")
            .collect();
        for e in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n != "host" && n != "hostfile" {
                v.push(format!("../{n}"));
            }
        }
        v
    }
    fn hostfile(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("hostfile")).unwrap()
    }
    /// Nothing was written to the host's side, the secret not read.
    fn assert_untouched(&self, o: &Output, what: &str) {
        assert_eq!(
            self.written(),
            Vec::<String>::new(),
            "{what}: wrote on the host: {o:?}"
        );
        assert_eq!(
            self.hostfile(),
            "host file\n",
            "{what}: changed a host file: {o:?}"
        );
        assert!(
            !o.stdout.contains(&self.secret),
            "{what}: read the host's secret: {o:?}"
        );
    }
}

/// The attack's own account: no try got through.
fn assert_no_escape(o: &Output, what: &str) {
    assert!(
        !o.stdout.contains("ESCAPED"),
        "{what} got through: {}{}",
        o.stdout,
        o.stderr
    );
    // 0: every try held, 10: one got through, 128 + n: a system call
    // filter killed it (held). 125-127, 2: it never ran.
    assert!(
        o.status == 0 || o.status == 10 || o.status > 128,
        "{what}: zattack did not run: {o:?}"
    );
}

fn open_dir(p: &Path) -> std::fs::File {
    std::fs::File::open(p).unwrap()
}

fn open_rw(p: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(p)
        .unwrap()
}

/// Add the decoy's descriptors as fd 9 (host directory) and 10 (host
/// file) of a command; the files must outlive the command's start.
fn with_host_fds(c: &mut Command, d: &Decoy) -> (std::fs::File, std::fs::File) {
    let dir = open_dir(&d.host());
    let file = open_rw(&d.dir.path().join("hostfile"));
    pass_fd(c, dir.as_raw_fd(), 9);
    pass_fd(c, file.as_raw_fd(), 10);
    (dir, file)
}

/// Runs `$f(zone)` against the default, the allow and the allow.mount zone.
macro_rules! both {
    ($name:ident, $f:ident) => {
        mod $name {
            #[test]
            fn default_zone() {
                super::$f(super::default_zone())
            }
            #[test]
            fn allow_zone() {
                super::$f(super::allow_zone())
            }
            #[test]
            fn mount_zone() {
                super::$f(super::mount_zone())
            }
        }
    };
}

// --------------------------------------------------------- reach host files

#[test]
fn f01_zenter_with_host_descriptors_open() {
    let z = default_zone();
    let d = Decoy::new();
    let name = uniq("f01");
    let mut c = z.enter_command(&["/zattack", "fdscan", &name]);
    let _keep = with_host_fds(&mut c, &d);
    let o = output_of(c);
    d.assert_untouched(&o, "f01 zenter descriptors");
    assert_no_escape(&o, "f01 zenter descriptors");
}

/// A world with one sparse zone `name` installed (in a private 0700
/// directory) by zoneadm, zattack copied in; not booted.
fn tool_zone(tag: &str, extra: &str) -> (ToolWorld, String, PathBuf) {
    let mut w = ToolWorld::new(tag);
    let name = w.name(tag);
    let zp = w.dir.path().join("zones").join(&name);
    w.configure_sleeper(&name, &zp, extra);
    let o = w.run("zoneadm", &["-z", &name, "install"]);
    assert_eq!(o.status, 0, "zoneadm install: {o:?}");
    let root = installed_root(&zp);
    zones_e2e::copy_exe(bin("zattack"), root.join("zattack"));
    (w, name, root)
}

fn boot(w: &ToolWorld, name: &str) {
    let o = w.run("zoneadm", &["-z", name, "boot"]);
    assert_eq!(o.status, 0, "zoneadm boot {name}: {o:?}");
}

fn halt(w: &ToolWorld, name: &str) {
    let o = w.run("zoneadm", &["-z", name, "halt"]);
    assert_eq!(o.status, 0, "zoneadm halt {name}: {o:?}");
}

#[test]
fn f02_zlogin_with_host_descriptors_open() {
    let (w, name, _) = tool_zone("f02", "");
    boot(&w, &name);
    let d = Decoy::new();
    let m = uniq("f02");
    let mut c = w.command("zlogin", &[&name, "/zattack", "fdscan", &m]);
    let _keep = with_host_fds(&mut c, &d);
    let o = output_of(c);
    assert_ne!(o.status, 1, "zlogin failed: {o:?}");
    d.assert_untouched(&o, "f02 zlogin descriptors");
    assert_no_escape(&o, "f02 zlogin descriptors");
}

#[test]
fn f03_jexec_with_host_descriptors_open() {
    let (w, name, _) = tool_zone("f03", "");
    boot(&w, &name);
    let d = Decoy::new();
    let m = uniq("f03");
    let mut c = w.command("jexec", &[&name, "/zattack", "fdscan", &m]);
    let _keep = with_host_fds(&mut c, &d);
    let o = output_of(c);
    assert_ne!(o.status, 1, "jexec failed: {o:?}");
    d.assert_untouched(&o, "f03 jexec descriptors");
    assert_no_escape(&o, "f03 jexec descriptors");
}

#[test]
fn f04_zoneadm_boot_with_host_descriptors_open() {
    let (w, name, _) = tool_zone("f04", "");
    let d = Decoy::new();
    let mut c = w.command("zoneadm", &["-z", &name, "boot"]);
    let keep = with_host_fds(&mut c, &d);
    let o = output_of(c);
    drop(keep);
    assert_eq!(o.status, 0, "zoneadm boot: {o:?}");
    let m = uniq("f04");
    let o = w.run("zlogin", &[&name, "/zattack", "fdscan", &m]);
    d.assert_untouched(&o, "f04 descriptors of zsched and init");
    assert_no_escape(&o, "f04 descriptors of zsched and init");
}

#[test]
fn f05_entering_processes_cannot_be_grabbed_while_joining() {
    let mut z = TestZone::sparse("f05");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    z.ready().expect("ready");
    z.boot().expect("boot");
    z.install_attack();
    let d = Decoy::new();
    // The administrator's entering binary: a copy, so that a zone that
    // wins writes over the copy and not over the build.
    let copy = z.tmp.path().join("zenter-copy");
    zones_e2e::copy_exe(bin("zenter"), &copy);
    let before = std::fs::read(&copy).unwrap();
    let hf = z.tmp.path().join("f05-handle.json");
    std::fs::write(&hf, serde_json::to_string(z.handle()).unwrap()).unwrap();
    let m = uniq("f05");
    let mut watcher = z.enter_command(&["/zattack", "enter-watch", "8", &m]);
    let mut watcher = watcher
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = watcher.stdout.take().unwrap();
    let mut first = [0u8; 9];
    out.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"watching\n");
    let t = Instant::now();
    let mut entered = 0;
    while t.elapsed() < Duration::from_secs(6) && entered < 25 {
        let mut c = Command::new(&copy);
        c.arg(&hf).args(["--", "/bin/true"]);
        // Standard streams of its own (pipes), as an administrator's
        // script has; the host descriptors of a careless caller besides.
        let (_a, _b) = with_host_fds(&mut c, &d);
        c.stdin(Stdio::null());
        let st = output_of(c);
        assert_eq!(st.status, 0, "enter {entered} failed: {st:?}");
        entered += 1;
    }
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    watcher.wait().unwrap();
    let o = Output {
        status: 0,
        stdout: rest,
        stderr: String::new(),
    };
    assert!(
        std::fs::read(&copy).unwrap() == before,
        "f05: the zone overwrote the host's entering binary {}: {o:?}",
        copy.display()
    );
    d.assert_untouched(&o, "f05 joining process");
    assert_no_escape(&o, "f05 joining process");
    assert!(o.stdout.contains("done"), "{o:?}");
}

fn f06_open_by_handle_at(z: &TestZone) {
    let d = Decoy::new();
    let p = std::ffi::CString::new(d.host().join("secret").to_str().unwrap()).unwrap();
    let mut buf = [0u8; 8 + 128];
    buf[0..4].copy_from_slice(&128u32.to_ne_bytes());
    let mut mnt = 0i32;
    // SAFETY: buf holds a struct file_handle with room for 128 bytes.
    let r = unsafe {
        libc::syscall(
            libc::SYS_name_to_handle_at,
            libc::AT_FDCWD,
            p.as_ptr(),
            buf.as_mut_ptr(),
            &mut mnt,
            0,
        )
    };
    assert_eq!(r, 0, "name_to_handle_at on the host");
    let n = u32::from_ne_bytes(buf[0..4].try_into().unwrap()) as usize;
    let ty = i32::from_ne_bytes(buf[4..8].try_into().unwrap());
    let hex: String = buf[8..8 + n].iter().map(|b| format!("{b:02x}")).collect();
    let o = z.attack(&["open-handle", &hex, &ty.to_string()]);
    d.assert_untouched(&o, "f06 open_by_handle_at");
    assert_no_escape(&o, "f06 open_by_handle_at");
}
both!(f06_open_by_handle_at_a_host_file, f06_open_by_handle_at);

fn f07_chroot(z: &TestZone) {
    let d = Decoy::new();
    let o = z.attack(&["chroot-write", &d.host_str()]);
    d.assert_untouched(&o, "f07 chroot-in-chroot");
    // unshare(CLONE_NEWNS) is the allow.mount zone's right (CAP_SYS_ADMIN).
    if !std::ptr::eq(z, mount_zone()) {
        assert_no_escape(&o, "f07 chroot-in-chroot / pivot");
    }
}
both!(f07_chroot_in_chroot_and_pivot, f07_chroot);

fn f08_proc_of_host_process(z: &TestZone) {
    let d = Decoy::new();
    let mut sleeper = Command::new("/bin/sleep")
        .arg("30")
        .current_dir(d.host())
        .spawn()
        .unwrap();
    let pid = sleeper.id();
    let host = d.host_str();
    let o = z.attack(&[
        "create",
        &format!("/proc/{pid}/cwd/marker"),
        &format!("/proc/{pid}/root{host}/marker"),
        &format!("/proc/1/root{host}/marker"),
    ]);
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    d.assert_untouched(&o, "f08 /proc/N/root");
}
both!(
    f08_proc_root_and_cwd_of_a_host_process,
    f08_proc_of_host_process
);

// -------------------------------------------- make the host write elsewhere

#[test]
fn w01_reinstall_over_an_etc_symlink() {
    let (w, name, _) = tool_zone("w01", "");
    boot(&w, &name);
    let d = Decoy::new();
    let o = w.run(
        "zlogin",
        &[&name, "/zattack", "symlink", &d.host_str(), "/etc"],
    );
    assert!(o.stdout.contains("ESCAPED: plant"), "{o:?}");
    halt(&w, &name);
    let o = w.run("zoneadm", &["-z", &name, "install"]);
    d.assert_untouched(&o, "w01 reinstall through /etc");
}

#[test]
fn w02_reinstall_over_etc_file_symlinks() {
    let (w, name, _) = tool_zone("w02", "");
    boot(&w, &name);
    let d = Decoy::new();
    let hostfile = d.dir.path().join("hostfile").display().to_string();
    let o = w.run(
        "zlogin",
        &[
            &name,
            "/bin/sh",
            "-c",
            &format!(
                "/zattack symlink {hostfile} /etc/shadow; /zattack symlink {}/passwd /etc/passwd; /zattack symlink {}/resolv.conf /etc/resolv.conf",
                d.host_str(),
                d.host_str()
            ),
        ],
    );
    assert!(o.stdout.contains("ESCAPED: plant"), "{o:?}");
    halt(&w, &name);
    let o = w.run("zoneadm", &["-z", &name, "install"]);
    d.assert_untouched(&o, "w02 reinstall through etc files");
}

#[test]
fn w03_clone_of_a_zone_whose_etc_is_a_symlink() {
    let (mut w, src, _) = tool_zone("w03", "");
    let dst = w.name("w03d");
    let zp = w.dir.path().join("zones").join(&dst);
    w.configure(
        &dst,
        &format!("path = \"{}\";\nbrand = sparse;", zp.display()),
    );
    boot(&w, &src);
    let d = Decoy::new();
    let o = w.run(
        "zlogin",
        &[&src, "/zattack", "symlink", &d.host_str(), "/etc"],
    );
    assert!(o.stdout.contains("ESCAPED: plant"), "{o:?}");
    halt(&w, &src);
    let o = w.run("zoneadm", &["-z", &dst, "clone", &src]);
    d.assert_untouched(&o, "w03 clone through /etc");
}

#[test]
fn w04_nested_install_through_a_parent_symlink() {
    let parent = default_zone();
    let d = Decoy::new();
    let child = uniq("w04");
    let o = parent.attack(&["symlink", &d.host_str(), &format!("/{child}")]);
    assert!(o.stdout.contains("ESCAPED: plant"), "{o:?}");
    let r = install::sparse(&parent.spec.root.join(&child), "child");
    let o = Output {
        status: 0,
        stdout: format!("{r:?}"),
        stderr: String::new(),
    };
    d.assert_untouched(&o, "w04 nested install");
}

#[test]
fn w05_nested_boot_through_a_parent_symlink() {
    let parent = default_zone();
    let d = Decoy::new();
    // Another root on the host: what the parent wants its child to be.
    let victim = d.host().join("victim");
    // A private place, so that the victim itself is a root that may boot.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d.host(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    install::sparse(&victim, "victim").unwrap();
    std::fs::write(victim.join("secret"), &d.secret).unwrap();
    let before = std::fs::read_dir(&victim).unwrap().count();
    let leaf = uniq("w05");
    let o = parent.attack(&["symlink", victim.to_str().unwrap(), &format!("/{leaf}")]);
    assert!(o.stdout.contains("ESCAPED: plant"), "{o:?}");
    let mut child = TestZone::with_root("w05", Brand::Sparse, Some(parent.spec.root.join(&leaf)));
    child.spec.name = ZoneName::new(&format!("{}.{leaf}", parent.spec.name)).unwrap();
    child.spec.parent = Some(parent.handle().clone());
    child
        .set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    let booted = child.ready().is_ok() && child.boot().is_ok();
    let o = if booted {
        child.sh("cat /secret; echo child > /marker")
    } else {
        Output {
            status: 1,
            stdout: "refused".into(),
            stderr: String::new(),
        }
    };
    assert!(
        !o.stdout.contains(&d.secret),
        "w05: the child's root is the victim's: {o:?}"
    );
    assert!(
        !victim.join("marker").exists(),
        "w05: wrote into the victim root: {o:?}"
    );
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), before, "{o:?}");
}

#[test]
fn w06_fstab_mount_through_a_planted_symlink() {
    let mut planter = TestZone::sparse("w06");
    planter
        .set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    planter.ready().expect("ready");
    planter.boot().expect("boot");
    planter.install_attack();
    let d = Decoy::new();
    let o = planter.attack(&["symlink", &d.host_str(), "/mnt/evil"]);
    assert!(o.stdout.contains("ESCAPED: plant"), "{o:?}");
    planter.halt();
    let root = planter.spec.root.clone();
    let mut z = TestZone::with_root("w06b", Brand::Sparse, Some(root.clone()));
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()))
        .set(
            "mount",
            Value::List(vec![format!(
                "tmpfs {}/mnt/evil/sub tmpfs rw,size=1m 0 0",
                root.display()
            )]),
        );
    let r = z.ready().map(|_| ());
    let o = Output {
        status: 0,
        stdout: format!("{r:?}"),
        stderr: String::new(),
    };
    d.assert_untouched(&o, "w06 mount point through a symlink");
}

// ------------------------------------------- plant privilege for host users

/// The rule of the zone path (zoneadm(8) THE ZONE PATH): a root host
/// users can reach is refused at install and at boot. Here the zone is
/// installed while its parent is private and booted after the parent was
/// opened to every host user (as /zones would be): the boot must be
/// refused; were it not, the zone plants `plant` at /bin2. None: refused
/// (the attack held at its first step).
fn planted(tag: &str, plant: &str) -> Option<(ToolWorld, tempfile::TempDir, PathBuf, Output)> {
    use std::os::unix::fs::PermissionsExt;
    let mut w = ToolWorld::new(tag);
    let name = w.name(tag);
    let public = tempfile::Builder::new()
        .prefix("zones-e2e-public-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(public.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let zp = public.path().join(&name);
    w.configure_sleeper(&name, &zp, "");
    // Installing there is refused outright.
    let o = w.run("zoneadm", &["-z", &name, "install"]);
    assert_ne!(o.status, 0, "install under a public parent: {o:?}");
    assert!(o.stderr.contains("reachable by other users"), "{o:?}");
    // Installed while private, opened afterwards: boot is refused.
    std::fs::set_permissions(public.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let o = w.run("zoneadm", &["-z", &name, "install"]);
    assert_eq!(o.status, 0, "{o:?}");
    let root = installed_root(&zp);
    zones_e2e::copy_exe(bin("zattack"), root.join("zattack"));
    std::fs::set_permissions(public.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = w.run("zoneadm", &["-z", &name, "boot"]);
    if o.status != 0 {
        assert!(o.stderr.contains("reachable by other users"), "{o:?}");
        return None;
    }
    let o = w.run("zlogin", &[&name, "/zattack", plant, "/bin2"]);
    Some((w, public, root.join("bin2"), o))
}

/// Run `file` as uid/gid 65534 on the host; the payload creates a marker
/// in a root-only directory.
fn run_as_nobody(file: &Path) -> (bool, String) {
    let private = tempfile::Builder::new()
        .prefix("zones-e2e-rootonly-")
        .tempdir()
        .unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(file)
        .arg("suid-payload")
        .arg(private.path())
        .output()
        .unwrap();
    let s = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (private.path().join("marker").exists(), s)
}

#[test]
fn p01_setuid_binary_planted_for_host_users() {
    let Some((_w, _public, file, o)) = planted("p01", "plant-suid") else {
        return;
    };
    let (made, s) = run_as_nobody(&file);
    assert!(
        !made,
        "p01: uid 65534 got root through {}: {s} (plant: {o:?})",
        file.display()
    );
}

#[test]
fn p02_file_capability_binary_planted_for_host_users() {
    let Some((_w, _public, file, o)) = planted("p02", "plant-fcap") else {
        return;
    };
    let (made, s) = run_as_nobody(&file);
    assert!(
        !made,
        "p02: uid 65534 got cap_dac_override through {}: {s} (plant: {o:?})",
        file.display()
    );
}

fn p03_setfcap(z: &TestZone) {
    let f = format!("/{}", uniq("p03"));
    let o = z.attack(&["plant-fcap", &f]);
    let host = z.spec.root.join(f.trim_start_matches('/'));
    let out = Command::new("getfattr")
        .args(["--absolute-names", "-n", "security.capability"])
        .arg(&host)
        .output();
    // getfattr may be missing: read the attribute ourselves.
    let _ = out;
    let p = std::ffi::CString::new(host.to_str().unwrap()).unwrap();
    let n = std::ffi::CString::new("security.capability").unwrap();
    let mut buf = [0u8; 64];
    // SAFETY: p, n and buf are live for the call.
    let r = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr() as *mut _, 64) };
    let _ = std::fs::remove_file(&host);
    assert!(
        r < 0,
        "p03: the zone set file capabilities on {}: {o:?}",
        host.display()
    );
}
both!(p03_cap_setfcap_sets_file_capabilities, p03_setfcap);

#[test]
fn p04_boot_refuses_a_root_host_users_can_reach() {
    use std::os::unix::fs::PermissionsExt;
    let public = tempfile::Builder::new()
        .prefix("zones-e2e-public-")
        .tempdir()
        .unwrap();
    let root = public.path().join("root");
    std::fs::set_permissions(public.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    install::sparse(&root, "p04").unwrap();
    std::fs::set_permissions(public.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut z = TestZone::with_root("p04", Brand::Sparse, Some(root));
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    let booted = z.ready().is_ok() && z.boot().is_ok();
    assert!(
        !booted,
        "p04: a zone whose root uid 65534 can reach ({}) booted",
        public.path().display()
    );
}

// ------------------------------------------------- reach host kernel state

const KEY_SPEC_USER_KEYRING: i64 = -4;

/// A key in the host root's user keyring, unlinked when dropped.
struct HostKey {
    id: i64,
    desc: String,
    payload: String,
}

impl HostKey {
    fn add() -> HostKey {
        let desc = uniq("zones-escape-key");
        let payload = uniq("key-payload");
        let (t, d) = (
            std::ffi::CString::new("user").unwrap(),
            std::ffi::CString::new(desc.clone()).unwrap(),
        );
        // SAFETY: strings and payload are live for the call.
        let id = unsafe {
            libc::syscall(
                libc::SYS_add_key,
                t.as_ptr(),
                d.as_ptr(),
                payload.as_ptr(),
                payload.len(),
                KEY_SPEC_USER_KEYRING,
            )
        };
        assert!(
            id > 0,
            "add_key on the host: {}",
            std::io::Error::last_os_error()
        );
        HostKey { id, desc, payload }
    }
}

impl Drop for HostKey {
    fn drop(&mut self) {
        // SAFETY: KEYCTL_UNLINK (9) of our key from @u.
        unsafe { libc::syscall(libc::SYS_keyctl, 9, self.id, KEY_SPEC_USER_KEYRING) };
    }
}

fn k01_keyring_read(z: &TestZone) {
    let k = HostKey::add();
    let o = z.attack(&["keyread", &k.desc]);
    assert!(
        !o.stdout.contains(&k.payload),
        "k01: read the host's key: {o:?}"
    );
    assert_no_escape(&o, "k01 keyring read");
}
both!(k01_read_the_hosts_key, k01_keyring_read);

fn host_has_key(desc: &str) -> Option<i64> {
    let (t, d) = (
        std::ffi::CString::new("user").unwrap(),
        std::ffi::CString::new(desc).unwrap(),
    );
    // SAFETY: KEYCTL_SEARCH (10) with live strings.
    let id = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            10,
            KEY_SPEC_USER_KEYRING,
            t.as_ptr(),
            d.as_ptr(),
            0,
        )
    };
    (id > 0).then_some(id)
}

fn k02_keyring_add(z: &TestZone) {
    let desc = uniq("zones-escape-planted");
    let o = z.attack(&["keyadd", &desc]);
    if let Some(id) = host_has_key(&desc) {
        // SAFETY: KEYCTL_UNLINK (9) of the planted key.
        unsafe { libc::syscall(libc::SYS_keyctl, 9, id, KEY_SPEC_USER_KEYRING) };
        panic!("k02: the zone added key {desc} to the host root's keyring: {o:?}");
    }
}
both!(k02_add_a_key_to_the_hosts_keyring, k02_keyring_add);

fn k03_int80(z: &TestZone) {
    let k = HostKey::add();
    let o = z.attack(&["int80", &k.desc]);
    assert!(
        !o.stdout.contains(&k.payload),
        "k03: read the host's key via int 0x80: {o:?}"
    );
    assert_no_escape(&o, "k03 i386 ABI");
}
both!(k03_i386_abi_through_int_0x80, k03_int80);

fn k04_x32(z: &TestZone) {
    let o = z.attack(&["x32"]);
    assert_no_escape(&o, "k04 x32 ABI");
}
both!(k04_x32_abi, k04_x32);

/// Restores a host file's contents when dropped, if they changed.
struct Restore(PathBuf, String);

impl Drop for Restore {
    fn drop(&mut self) {
        if std::fs::read_to_string(&self.0).ok().as_deref() != Some(&self.1) {
            let _ = std::fs::write(&self.0, &self.1);
        }
    }
}

fn k05_sysctl(z: &TestZone) {
    let _g = host_state();
    let f = PathBuf::from("/proc/sys/kernel/printk_ratelimit_burst");
    let before = std::fs::read_to_string(&f).unwrap();
    let _r = Restore(f.clone(), before.clone());
    let evil = (before.trim().parse::<u64>().unwrap() + 7).to_string();
    let o = z.attack(&["sysctl-write", "kernel/printk_ratelimit_burst", &evil]);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        before,
        "k05: the zone changed a host sysctl: {o:?}"
    );
}
both!(k05_host_sysctl_through_proc, k05_sysctl);

fn k06_sysfs(z: &TestZone) {
    let _g = host_state();
    let f = PathBuf::from("/sys/module/printk/parameters/time");
    let before = std::fs::read_to_string(&f).unwrap();
    let _r = Restore(f.clone(), before.clone());
    let evil = if before.trim() == "Y" { "N" } else { "Y" };
    let o = z.attack(&["sysfs-write", "module/printk/parameters/time", evil]);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        before,
        "k06: the zone changed a sysfs attribute of the host: {o:?}"
    );
}
both!(k06_host_sysfs, k06_sysfs);

/// The host's kernel log as /dev/kmsg gives it (every record).
fn host_kmsg() -> String {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/kmsg")
        .unwrap();
    let mut all = String::new();
    let mut buf = vec![0u8; 8192];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => all.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
            Err(_) => break,
        }
    }
    all
}

use std::os::unix::fs::OpenOptionsExt;

fn k07_kmsg(z: &TestZone) {
    let host_marker = uniq("zones-escape-host-kmsg");
    let zone_marker = uniq("zones-escape-zone-kmsg");
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/kmsg")
        .and_then(|mut f| f.write_all(format!("{host_marker}\n").as_bytes()))
        .unwrap();
    let o = z.attack(&["kmsg", &host_marker, &zone_marker]);
    assert!(
        !host_kmsg().contains(&zone_marker),
        "k07: the zone wrote to the host's kernel log: {o:?}"
    );
    assert!(
        !o.stdout.contains("ESCAPED: syslog") && !o.stdout.contains("ESCAPED: read the host"),
        "k07: the zone read the host's kernel log: {o:?}"
    );
}
both!(k07_kernel_log, k07_kmsg);

fn k08_modules(z: &TestZone) {
    assert_no_escape(&z.attack(&["module"]), "k08 module loading");
}
both!(k08_module_loading, k08_modules);

fn k09_bpf(z: &TestZone) {
    assert_no_escape(&z.attack(&["bpf"]), "k09 bpf");
}
both!(k09_bpf, k09_bpf);

fn k10_perf(z: &TestZone) {
    assert_no_escape(&z.attack(&["perf"]), "k10 perf_event_open");
}
both!(k10_perf_event_open, k10_perf);

fn k11_userfaultfd(z: &TestZone) {
    assert_no_escape(&z.attack(&["userfaultfd"]), "k11 userfaultfd");
}
both!(k11_userfaultfd, k11_userfaultfd);

fn k12_kexec(z: &TestZone) {
    let _g = host_state();
    let f = PathBuf::from("/proc/sys/kernel/ctrl-alt-del");
    let before = std::fs::read_to_string(&f).unwrap();
    let _r = Restore(f.clone(), before.clone());
    let o = z.attack(&["kexec"]);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), before, "k12: {o:?}");
    assert_no_escape(&o, "k12 kexec / reboot");
}
both!(k12_kexec_and_reboot, k12_kexec);

#[test]
fn k13_clock_setting() {
    assert_no_escape(&default_zone().attack(&["settime"]), "k13 clock setting");
}

fn k14_newmount(z: &TestZone) {
    let _g = host_state();
    let f = PathBuf::from("/proc/sys/kernel/printk_ratelimit_burst");
    let before = std::fs::read_to_string(&f).unwrap();
    let _r = Restore(f.clone(), before.clone());
    let evil = (before.trim().parse::<u64>().unwrap() + 7).to_string();
    let o = z.attack(&["newmount", "kernel/printk_ratelimit_burst", &evil]);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        before,
        "k14: the zone changed a host sysctl through the new mount API: {o:?}"
    );
    assert_no_escape(&o, "k14 new mount API");
    // The calls themselves: refused by the filter without allow.mount,
    // let through with it (the zone's user namespace bounds them).
    if z.spec.params.bool("allow.mount") == Some(true) {
        assert!(o.stdout.contains("open: fsopen(tmpfs)"), "k14: {o:?}");
    } else {
        assert!(
            !o.stdout.contains("open:"),
            "k14: a mount call got through the filter: {o:?}"
        );
    }
}
both!(k14_new_mount_api, k14_newmount);

fn k15_cgroup(z: &TestZone) {
    let f = z
        .handle()
        .cgroups
        .iter()
        .map(|d| d.join("pids.max"))
        .find(|f| f.exists())
        .expect("the zone has a pids cgroup");
    let _g = host_state();
    let before = std::fs::read_to_string(&f).unwrap();
    let _r = Restore(f.clone(), before.clone());
    // A limit to raise.
    std::fs::write(&f, "1000").unwrap();
    let o = z.attack(&["cgroup-raise"]);
    let after = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, before.trim()).unwrap();
    assert_eq!(
        after.trim(),
        "1000",
        "k15: the zone raised its own pids.max: {o:?}"
    );
}
both!(k15_mount_cgroupfs_and_raise_limits, k15_cgroup);

fn k16_userns(z: &TestZone) {
    assert_no_escape(&z.attack(&["userns"]), "k16 new user namespace");
}
both!(k16_new_user_namespace, k16_userns);

fn k17_iouring(z: &TestZone) {
    assert_no_escape(&z.attack(&["iouring"]), "k17 io_uring");
}
both!(k17_io_uring, k17_iouring);

fn k18_personality(z: &TestZone) {
    assert_no_escape(&z.attack(&["personality"]), "k18 personality");
}
both!(k18_personality, k18_personality);

#[test]
fn k19_tiocsti_into_the_callers_terminal() {
    use std::os::unix::process::CommandExt;
    let z = default_zone();
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills two descriptors.
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0);
    let mut c = z.enter_command(&["/zattack", "tiocsti", "echo injected-by-a-zone\n"]);
    // SAFETY: setsid and ioctl are async-signal-safe.
    unsafe {
        c.pre_exec(move || {
            libc::setsid();
            libc::ioctl(slave, libc::TIOCSCTTY, 0);
            libc::dup2(slave, 0);
            Ok(())
        });
    }
    let o = output_of(c);
    // What the terminal would give the administrator's shell next.
    // SAFETY: slave is ours; made non-blocking to read what is queued.
    unsafe {
        let fl = libc::fcntl(slave, libc::F_GETFL);
        libc::fcntl(slave, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
    let mut buf = [0u8; 256];
    // SAFETY: buf is a live buffer.
    let n = unsafe { libc::read(slave, buf.as_mut_ptr() as *mut _, buf.len()) };
    // SAFETY: both descriptors are ours.
    unsafe {
        libc::close(master);
        libc::close(slave);
    }
    let queued = if n > 0 {
        String::from_utf8_lossy(&buf[..n as usize]).into_owned()
    } else {
        String::new()
    };
    assert!(
        !queued.contains("injected"),
        "k19: the zone typed into the host's terminal: {queued:?} ({o:?})"
    );
}

// -------------------------------------------- reach other zones, the host

fn o01_signal_host(z: &TestZone) {
    let mut sleeper = Command::new("/bin/sleep").arg("30").spawn().unwrap();
    let pid = sleeper.id().to_string();
    let o = z.attack(&["signal", &pid, "9"]);
    std::thread::sleep(Duration::from_millis(100));
    let alive = sleeper.try_wait().unwrap().is_none();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(alive, "o01: the zone killed a host process: {o:?}");
}
both!(o01_signal_a_host_process, o01_signal_host);

fn o02_signal_other(z: &TestZone) {
    let other = other_zone();
    let init = other.handle().init_pid;
    let o = z.attack(&["signal", &init.to_string(), "9"]);
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        launch::start_time(init).is_some(),
        "o02: the zone killed another zone's init: {o:?}"
    );
}
both!(o02_signal_another_zone, o02_signal_other);

fn o03_ptrace(z: &TestZone) {
    let mut sleeper = Command::new("/bin/sleep").arg("30").spawn().unwrap();
    let pid = sleeper.id();
    let init = other_zone().handle().init_pid;
    let o = z.attack(&["ptrace", &pid.to_string()]);
    let o2 = z.attack(&["ptrace", &init.to_string()]);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let other = std::fs::read_to_string(format!("/proc/{init}/status")).unwrap_or_default();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(
        status.contains("TracerPid:\t0\n"),
        "o03: traced: {status} {o:?}"
    );
    assert!(
        other.contains("TracerPid:\t0\n"),
        "o03: traced another zone's init: {other} {o2:?}"
    );
    assert_no_escape(&o, "o03 ptrace a host process");
    assert_no_escape(&o2, "o03 ptrace another zone's init");
}
both!(o03_ptrace_a_host_process, o03_ptrace);

fn shm_secret(key: i32, text: &str) -> i32 {
    // SAFETY: a fresh segment, written within its size and detached.
    unsafe {
        let id = libc::shmget(key, 4096, libc::IPC_CREAT | libc::IPC_EXCL | 0o644);
        assert!(id >= 0, "shmget on the host");
        let p = libc::shmat(id, std::ptr::null(), 0);
        std::ptr::copy_nonoverlapping(text.as_ptr(), p as *mut u8, text.len());
        libc::shmdt(p);
        id
    }
}

fn o04_sysv_host(z: &TestZone) {
    let key = 0x5a00_0000
        | (std::process::id() as i32 & 0xffff) << 4
        | (UNIQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst) as i32 & 0xf);
    let secret = uniq("shm-secret");
    let id = shm_secret(key, &secret);
    let o = z.attack(&["shmread", &key.to_string()]);
    // SAFETY: removing our own segment.
    unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
    assert!(
        !o.stdout.contains(&secret),
        "o04: read the host's shm: {o:?}"
    );
    assert!(
        !o.stdout.contains("ESCAPED"),
        "o04: reached the host's IPC: {o:?}"
    );
}
both!(o04_sysv_ipc_of_the_host, o04_sysv_host);

fn o05_sysv_other(z: &TestZone) {
    let key =
        0x5b00_0000 | (UNIQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst) as i32 & 0xffff);
    let secret = uniq("zone-shm-secret");
    let o = other_zone().attack(&["ipcmake", &key.to_string(), &secret]);
    assert!(o.stdout.contains("made shm"), "{o:?}");
    let o = z.attack(&["shmread", &key.to_string()]);
    assert!(
        !o.stdout.contains(&secret),
        "o05: read another zone's shm: {o:?}"
    );
}
both!(o05_sysv_ipc_of_another_zone, o05_sysv_other);

/// Accepts on `l` for as long as the attack runs; how many it accepted.
fn count_accepts<F: FnOnce() -> Output>(
    mut accept: impl FnMut() -> bool,
    attack: F,
) -> (usize, Output) {
    let o = attack();
    let mut n = 0;
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(300) {
        if accept() {
            n += 1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (n, o)
}

fn o06_abstract_host(z: &TestZone) {
    use std::os::linux::net::SocketAddrExt;
    let name = uniq("zones-escape-abstract");
    let sa = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let l = std::os::unix::net::UnixListener::bind_addr(&sa).unwrap();
    l.set_nonblocking(true).unwrap();
    let (n, o) = count_accepts(
        || l.accept().is_ok(),
        || z.attack(&["connect-abstract", &name]),
    );
    assert_eq!(n, 0, "o06: reached a host abstract socket: {o:?}");
}
both!(o06_abstract_socket_of_the_host, o06_abstract_host);

/// Zone `other` listens (kind tcp|abstract at addr) while `z` connects;
/// the lines the listener wrote to its marker.
fn listen_in_other(z: &TestZone, kind: &str, addr: &str, connect: &[&str]) -> (String, Output) {
    let other = other_zone();
    let marker = format!("/{}", uniq("accepted"));
    let mut l = other
        .enter_command(&["/zattack", "listen", kind, addr, "3", &marker])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    l.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    assert_eq!(&first, b"listening\n");
    let o = z.attack(connect);
    l.wait().unwrap();
    let host = other.spec.root.join(marker.trim_start_matches('/'));
    let got = std::fs::read_to_string(&host).unwrap_or_default();
    let _ = std::fs::remove_file(&host);
    (got, o)
}

fn o07_abstract_other(z: &TestZone) {
    let name = uniq("zones-escape-zone-abstract");
    let (got, o) = listen_in_other(z, "abstract", &name, &["connect-abstract", &name]);
    assert_eq!(
        got, "",
        "o07: reached another zone's abstract socket: {o:?}"
    );
}
both!(o07_abstract_socket_of_another_zone, o07_abstract_other);

fn o08_path_unix_host(z: &TestZone) {
    let d = Decoy::new();
    let p = d.host().join("sock");
    let l = std::os::unix::net::UnixListener::bind(&p).unwrap();
    l.set_nonblocking(true).unwrap();
    let ps = p.display().to_string();
    let me = std::process::id();
    let (n, o) = count_accepts(
        || l.accept().is_ok(),
        || {
            let a = z.attack(&["connect-unix", &ps]);
            let b = z.attack(&["connect-unix", &format!("/proc/{me}/root{ps}")]);
            Output {
                status: a.status.max(b.status),
                stdout: a.stdout + &b.stdout,
                stderr: a.stderr + &b.stderr,
            }
        },
    );
    assert_eq!(n, 0, "o08: reached a host Unix socket: {o:?}");
}
both!(o08_path_unix_socket_of_the_host, o08_path_unix_host);

fn o09_tcp_host(z: &TestZone) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let (n, o) = count_accepts(|| l.accept().is_ok(), || z.attack(&["connect-tcp", &port]));
    assert_eq!(n, 0, "o09: reached a host loopback service: {o:?}");
}
both!(o09_loopback_tcp_of_the_host, o09_tcp_host);

fn o10_tcp_other(z: &TestZone) {
    // A port free on the host's loopback now (the zone's may be its own).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let (got, o) = listen_in_other(z, "tcp", &port, &["connect-tcp", &port]);
    assert_eq!(
        got, "",
        "o10: reached another zone's loopback service: {o:?}"
    );
}
both!(o10_loopback_tcp_of_another_zone, o10_tcp_other);

fn o11_udp_host(z: &TestZone) {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_nonblocking(true).unwrap();
    let port = s.local_addr().unwrap().port().to_string();
    let mut buf = [0u8; 64];
    let (n, o) = count_accepts(
        || s.recv(&mut buf).is_ok(),
        || z.attack(&["send-udp", &port]),
    );
    assert_eq!(n, 0, "o11: a datagram reached a host socket: {o:?}");
}
both!(o11_loopback_udp_of_the_host, o11_udp_host);

fn o12_netunix(z: &TestZone) {
    let d = Decoy::new();
    let name = uniq("zones-escape-sockname");
    let _l = std::os::unix::net::UnixListener::bind(d.host().join(&name)).unwrap();
    let o = z.attack(&["netunix", &name]);
    assert_no_escape(&o, "o12 /proc/net/unix");
}
both!(o12_proc_net_unix_shows_host_sockets, o12_netunix);

// -------------------------------------------------- limits, wedging halt

#[test]
fn l01_fork_bomb_from_a_zlogin_process() {
    let (w, name, _) = tool_zone("l01", "zone.max-processes = 20;");
    boot(&w, &name);
    let o = w.run("zlogin", &[&name, "/zattack", "forkbomb", "100"]);
    assert!(o.stdout.contains("forked"), "{o:?}");
    assert_no_escape(&o, "l01 fork bomb");
}

#[test]
fn l02_locked_memory_zero_for_a_zenter_process() {
    let o = default_zone().attack(&["mlock", "4"]);
    assert_no_escape(&o, "l02 mlock under max-locked-memory=0");
}

#[test]
fn l03_locked_memory_zero_for_a_zlogin_process() {
    let (w, name, _) = tool_zone("l03", "zone.max-locked-memory = 0;");
    boot(&w, &name);
    let o = w.run("zlogin", &[&name, "/zattack", "mlock", "4"]);
    assert!(o.stdout.contains("RLIMIT_MEMLOCK"), "{o:?}");
    assert_no_escape(&o, "l03 mlock under max-locked-memory=0 (zlogin)");
}

#[test]
fn l07_memory_cap_holds_for_a_zlogin_process() {
    let (w, name, _) = tool_zone(
        "l07",
        "capped-memory.physical = 67108864;\nzone.max-swap = 67108864;",
    );
    boot(&w, &name);
    let o = w.run("zlogin", &[&name, "/zattack", "hog", "256"]);
    assert!(o.stdout.contains("touched 0"), "the hog never ran: {o:?}");
    assert_no_escape(&o, "l07 256 MiB under a 64 MiB cap (zlogin)");
}

#[test]
fn l04_sysv_objects_do_not_wedge_halt() {
    let (w, name, _) = tool_zone("l04", "");
    boot(&w, &name);
    let o = w.run(
        "zlogin",
        &[&name, "/zattack", "ipcmake", "4242", "left at halt"],
    );
    assert!(o.stdout.contains("made shm"), "{o:?}");
    let pids = w.pids();
    let mut h = w
        .command("zoneadm", &["-z", &name, "halt"])
        .spawn()
        .unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(s) = h.try_wait().unwrap() {
            break Some(s);
        }
        if t.elapsed() > Duration::from_secs(20) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if status.is_none() {
        // Unwedge it so that the world can be cleaned: remove the objects
        // from inside the zone's IPC namespace.
        for p in &pids {
            let _ = Command::new("nsenter")
                .args(["-t", &p.to_string(), "-i", "ipcrm", "-a"])
                .status();
        }
        let _ = h.kill();
        let _ = h.wait();
    }
    let status = status.unwrap_or_else(|| panic!("l04: halt still running after 20 s"));
    assert!(status.success(), "l04: halt failed: {status}");
    for p in pids {
        assert!(
            launch::start_time(p).is_none(),
            "l04: pid {p} of the zone survived halt"
        );
    }
}

#[test]
fn l05_a_lingering_process_does_not_survive_halt() {
    let mut z = TestZone::sparse("l05");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()));
    z.ready().expect("ready");
    z.boot().expect("boot");
    z.install_attack();
    let o = z.attack(&["linger", "/lingering"]);
    assert!(o.stdout.contains("lingering"), "{o:?}");
    let file = z.spec.root.join("lingering");
    // Wait until the lingering process has written at least once (a
    // loaded machine may take a while to run it), then halt.
    let t = std::time::Instant::now();
    while std::fs::read_to_string(&file)
        .unwrap_or_default()
        .is_empty()
        && t.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let cg = z.handle().cgroups.clone();
    z.halt();
    let a = std::fs::read_to_string(&file).unwrap_or_default();
    std::thread::sleep(Duration::from_millis(400));
    let b = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(!a.is_empty(), "the lingering process never ran");
    assert_eq!(a, b, "l05: a process of the zone still runs after halt");
    assert!(cg.iter().all(|d| !d.exists()), "l05: cgroups left");
}

#[test]
fn l06_a_busy_mount_does_not_wedge_halt() {
    let mut z = TestZone::sparse("l06");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()))
        .set("allow.mount", Value::Bool(true));
    z.ready().expect("ready");
    z.boot().expect("boot");
    z.install_attack();
    let o =
        z.sh("/zattack mount-tmpfs; cd /tmp/zattack-tmpfs && /zattack linger /tmp/zattack-tmpfs/f");
    assert!(
        o.stdout.contains("ESCAPED: mount a tmpfs"),
        "allow.mount did not mount: {o:?}"
    );
    let cg = z.handle().cgroups.clone();
    let t = Instant::now();
    z.halt();
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "l06: halt took {:?}",
        t.elapsed()
    );
    assert!(cg.iter().all(|d| !d.exists()), "l06: cgroups left");
    assert!(host_mounts_under(&z.spec.root).is_empty());
}

// -------------------------------------- what each allow.* opens, and only it

#[test]
fn a01_allow_raw_sockets_opens_raw_sockets() {
    let o = allow_zone().attack(&["raw-socket"]);
    assert!(o.stdout.contains("ESCAPED: raw socket"), "{o:?}");
    let o = default_zone().attack(&["raw-socket"]);
    assert_no_escape(&o, "raw socket without allow.raw_sockets");
}

#[test]
fn a02_allow_mount_mounts_a_tmpfs() {
    let o = mount_zone().attack(&["mount-tmpfs"]);
    assert!(o.stdout.contains("ESCAPED: mount a tmpfs"), "{o:?}");
    let o = default_zone().attack(&["mount-tmpfs"]);
    assert_no_escape(&o, "mount without allow.mount");
}

#[test]
fn a03_allow_settime_sets_the_clock_and_nothing_more() {
    let _g = host_state();
    let o = allow_zone().attack(&["settime"]);
    assert!(o.stdout.contains("ESCAPED: clock_settime"), "{o:?}");
}

#[test]
fn a04_allow_sysvipc_makes_objects_in_its_own_namespace() {
    let key =
        0x5c00_0000 | (UNIQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst) as i32 & 0xffff);
    let o = allow_zone().attack(&["ipcmake", &key.to_string(), "mine"]);
    assert!(o.stdout.contains("made shm"), "{o:?}");
    let o = allow_zone().attack(&["shmread", &key.to_string()]);
    assert!(o.stdout.contains("mine"), "{o:?}");
    // SAFETY: looking up a key in the host's namespace.
    let host = unsafe { libc::shmget(key, 0, 0) };
    assert!(host < 0, "the zone's segment is in the host's namespace");
}

#[test]
fn a05_allow_mlock_locks_memory() {
    let o = allow_zone().attack(&["mlock", "64"]);
    assert!(o.stdout.contains("ESCAPED: mlock"), "{o:?}");
}

fn a06_setuid(z: &TestZone) {
    // What su, passwd and ping need: a setuid-root file made by the
    // zone's root runs with euid 0 for a user of the zone (no
    // no_new_privs on zone processes, no nosuid on the zone's own root;
    // in the allow.mount zone, through the idmapped root).
    let f = format!("/tmp/{}", uniq("a06"));
    let o = z.attack(&["plant-suid", &f]);
    assert!(o.stdout.contains("ESCAPED: plant"), "{o:?}");
    let dir = format!("/root/{}", uniq("a06dir"));
    let o = z.sh(&format!("mkdir -m 700 {dir}"));
    assert_eq!(o.status, 0, "{o:?}");
    let mut c = Command::new(bin("zenter"));
    let hf = z.tmp.path().join(format!("{}.json", uniq("a06h")));
    std::fs::write(&hf, serde_json::to_string(z.handle()).unwrap()).unwrap();
    c.arg(&hf)
        .args(["--user", "nobody", "--"])
        .args([f.as_str(), "suid-payload", dir.as_str()]);
    let o = output_of(c);
    assert!(
        o.stdout.contains("uid 65534 euid 0"),
        "a06: setuid did not take: {o:?}"
    );
    assert!(
        z.spec
            .root
            .join(dir.trim_start_matches('/'))
            .join("marker")
            .exists(),
        "a06: {o:?}"
    );
}

#[test]
fn a06_setuid_programs_inside_keep_working() {
    a06_setuid(default_zone());
}

#[test]
fn a06_setuid_programs_inside_an_allow_mount_zone_keep_working() {
    a06_setuid(mount_zone());
}

#[test]
fn a08_an_allow_mount_zone_is_root_over_its_own_user_namespace_only() {
    let z = mount_zone();
    // Its root is 0 inside, a range of its own outside.
    let o = z.sh("id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map");
    assert_eq!(o.status, 0, "{o:?}");
    let base = userns::base(z.spec.id).unwrap();
    let map = format!("0 {base} 65536");
    let lines: Vec<String> = o
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(lines, ["0", "0", map.as_str(), map.as_str()], "{o:?}");
    // zsched, seen from the host: the zone's root is host uid BASE.
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", z.handle().zsched_pid)).unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert_eq!(
        uid.split_whitespace().nth(1),
        Some(base.to_string().as_str()),
        "zsched's uid on the host: {uid}"
    );
    // The root and the host's trees (idmapped) are the zone root's; the
    // zone's /dev too. /proc and /sys belong to the host's root (nobody).
    let o = z.sh("ls -lnd / /etc /root /tmp /usr /usr/bin /lib /dev /dev/null /dev/shm /zattack");
    assert_eq!(o.status, 0, "{o:?}");
    for l in o.stdout.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        assert_eq!((f[2], f[3]), ("0", "0"), "not the zone root's: {l}\n{o:?}");
    }
    // A file the zone's root makes is stored as uid 0 and one of its
    // user 1000 as 1000: the host sees its own ids, nothing is shifted
    // on disk.
    let name = uniq("a08");
    let o = z.sh(&format!(
        "touch /tmp/{name}.0 && touch /tmp/{name}.1000 && chown 1000:1000 /tmp/{name}.1000"
    ));
    assert_eq!(o.status, 0, "{o:?}");
    use std::os::unix::fs::MetadataExt;
    let m0 = std::fs::metadata(z.spec.root.join(format!("tmp/{name}.0"))).unwrap();
    let m1 = std::fs::metadata(z.spec.root.join(format!("tmp/{name}.1000"))).unwrap();
    assert_eq!((m0.uid(), m0.gid()), (0, 0));
    assert_eq!((m1.uid(), m1.gid()), (1000, 1000));
    // A session on a pty of the zone's own devpts (mounted by the host's
    // root, the pty the zone root's).
    let hf = z.tmp.path().join(format!("{}.json", uniq("a08h")));
    std::fs::write(&hf, serde_json::to_string(z.handle()).unwrap()).unwrap();
    let mut c = Command::new(bin("zenter"));
    c.arg(&hf)
        .args(["--pty", "--", "/bin/sh", "-c", "tty; stat -c %u \"$(tty)\""]);
    let o = output_of(c);
    let lines: Vec<&str> = o.stdout.lines().map(str::trim).collect();
    assert!(
        lines.len() == 2 && lines[0].starts_with("/dev/pts/") && lines[1] == "0",
        "a08: {o:?}"
    );
    // A pty the zone opens itself: its owner and group tty are the zone's.
    let o = z.sh("exec 3<>/dev/ptmx; stat -c '%u %g' $(ls -d /dev/pts/[0-9]* | tail -1)");
    assert_eq!(o.stdout.trim(), "0 5", "a08: {o:?}");
    // The host's setuid programs keep their owner and bit inside (a06
    // runs one the zone made).
    let o = z.sh("stat -c '%u %g %a' /usr/bin/su /usr/bin/passwd");
    assert_eq!(
        o.stdout.lines().collect::<Vec<_>>(),
        ["0 0 4755", "0 0 4755"],
        "{o:?}"
    );
    // A mount of the zone's own is possible (a02), but one the host made
    // is locked: not unmounted to uncover what lies beneath (a /proc
    // mask), not remounted read-write.
    let o = z.sh(
        "umount /proc/keys; umount -l /proc/keys; mount -o remount,bind,rw /usr; \
         grep -c ' /proc/keys ' /proc/self/mountinfo; touch /usr/zones-a08 || echo ro",
    );
    assert_eq!(
        o.stdout.lines().collect::<Vec<_>>(),
        ["1", "ro"],
        "a08: a host mount was undone: {o:?}"
    );
}

#[test]
fn a09_an_allow_mount_zone_is_counted_adopted_and_halted_leaving_nothing() {
    use zones::snapshot::Subsys;
    use zones_linux::runtime::{Adopted, Runtime};
    let mut z = TestZone::sparse("a09");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()))
        .set("allow.mount", Value::Bool(true))
        .set("zone.max-locked-memory", Value::Int(4 << 20));
    z.ready().expect("ready");
    z.boot().expect("boot");
    let o = z.sh("ulimit -l");
    assert_eq!(o.stdout.trim(), "4096", "{o:?}");
    let id = z.spec.id;
    // The host-made mounts are not the zone's references; one it makes is.
    let before = z.rt.refs(id, z.handle()).subsys[Subsys::Vfs as usize];
    let o = z.sh("mkdir -p /tmp/a09 && mount -t tmpfs a09 /tmp/a09");
    assert_eq!(o.status, 0, "{o:?}");
    let r = z.rt.refs(id, z.handle());
    assert_eq!(r.subsys[Subsys::Vfs as usize], before + 1, "{r:?}");
    assert_eq!(r.cred, 1, "init only: {r:?}");
    // A second runtime (the engine restarted after kill -9) adopts it,
    // and enters it as a user of the zone.
    let rt2 = z.new_runtime();
    match rt2.adopt(&z.spec, z.handle()) {
        Adopted::Alive { handle, .. } => assert_eq!(&handle, z.handle()),
        Adopted::Gone => panic!("a live allow.mount zone was not adopted"),
    }
    let hf = z.tmp.path().join(format!("{}.json", uniq("a09h")));
    std::fs::write(&hf, serde_json::to_string(z.handle()).unwrap()).unwrap();
    let mut c = Command::new(bin("zenter"));
    c.arg(&hf)
        .args(["--user", "nobody", "--", "/bin/sh", "-c", "id -u; id -g"]);
    let o = output_of(c);
    assert_eq!(o.stdout.lines().next(), Some("65534"), "{o:?}");
    // shutdown + down drain every reference of the zone, the mount it
    // made included; destroy leaves nothing.
    let h = z.handle().clone();
    z.rt.shutdown(&h, Duration::from_secs(5)).unwrap();
    z.rt.down(&h).unwrap();
    let r = z.rt.refs(id, &h);
    assert_eq!(r.subsys[Subsys::Vfs as usize], 0, "{r:?}");
    assert_eq!(r.cred, 0, "{r:?}");
    let ns = pid_ns(h.zsched_pid).expect("zsched's pid namespace");
    z.halt();
    z.assert_gone(&ns, "a09");
    assert!(host_mounts_under(&z.spec.root).is_empty());
}

#[test]
fn a10_an_allow_mount_zone_owns_its_network_and_host_name() {
    // Its network and UTS namespaces belong to its user namespace: a
    // vnet interface is moved in, and what allow.* keeps works there.
    let n = std::process::id() % 100_000;
    let (a, b) = (format!("zm{n}a"), format!("zm{n}b"));
    let ok = Command::new("ip")
        .args(["link", "add", &a, "type", "veth", "peer", "name", &b])
        .status()
        .expect("ip link add");
    assert!(ok.success(), "ip link add {a}");
    struct Del(String);
    impl Drop for Del {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["link", "del", &self.0]).output();
        }
    }
    let _del = Del(b.clone());
    let mut z = TestZone::sparse("a10");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()))
        .set("allow.mount", Value::Bool(true))
        .set("allow.set_hostname", Value::Bool(true))
        .set("allow.raw_sockets", Value::Bool(true))
        .set("vnet", Value::Str("new".into()))
        .set("vnet.interface", Value::List(vec![a.clone()]));
    z.ready().expect("ready");
    z.boot().expect("boot");
    z.install_attack();
    let o = z.sh(&format!(
        "grep -c '{a}:' /proc/net/dev; cat /sys/class/net/lo/operstate /proc/self/uid_map >/dev/null && hostname fine && hostname"
    ));
    assert_eq!(o.stdout.lines().collect::<Vec<_>>(), ["1", "fine"], "{o:?}");
    let o = z.attack(&["raw-socket"]);
    assert!(o.stdout.contains("ESCAPED: raw socket"), "{o:?}");
    // The host's name is not the zone's.
    let mut host = [0u8; 65];
    // SAFETY: gethostname into a buffer we own, of the length given.
    unsafe { libc::gethostname(host.as_mut_ptr() as *mut libc::c_char, host.len()) };
    assert!(!host.starts_with(b"fine\0"));
    z.halt();
}

#[test]
fn a11_allow_mount_whole_roots_an_empty_one_and_slash() {
    // An empty root (no /dev: zsched's stdio is the host's /dev/null, as
    // for any zone) gets as far as exec init.
    let mut z = TestZone::with_root("a11e", Brand::Whole, None);
    z.set("command", Value::List(vec!["/bin/true".into()]))
        .set("allow.mount", Value::Bool(true));
    z.ready().expect("ready with an empty root");
    let e = z.boot().unwrap_err();
    assert_eq!(
        (e.step.as_str(), e.errno),
        ("exec init", Some(libc::ENOENT)),
        "{e}"
    );
    z.halt();
    // A jail rooted at / (not idmapped: the host's files are nobody's to
    // its root) runs its command in its own user namespace.
    let mut z = TestZone::with_root("a11s", Brand::Whole, Some("/".into()));
    // (Its output reaches the host through exec.consolelog: it may not
    // write a host directory itself.)
    let log = z.tmp.path().join("a11.log");
    z.set(
        "command",
        Value::List(vec![
            "/bin/sh".into(),
            "-c".into(),
            "cat /proc/self/uid_map; touch /etc/zones-a11 || echo refused".into(),
        ]),
    )
    .set("exec.consolelog", Value::Str(log.display().to_string()))
    .set("allow.mount", Value::Bool(true));
    z.ready().expect("ready");
    z.boot().expect("boot");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = String::new();
    while !s.contains("refused") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        s = std::fs::read_to_string(&log).unwrap_or_default();
    }
    let base = userns::base(z.spec.id).unwrap();
    let words: Vec<&str> = s.split_whitespace().take(3).collect();
    assert_eq!(words, ["0", &base.to_string(), "65536"], "{s:?}");
    assert!(
        !Path::new("/etc/zones-a11").exists(),
        "a11: wrote the host's /etc"
    );
    z.halt();
}

#[test]
fn a12_allow_mount_zone_mount_lines_are_idmapped_as_its_root() {
    use std::os::unix::fs::MetadataExt;
    // A host directory bound in (read-write) and a tmpfs: the host's ids
    // are the zone's, as they were to a zone of the host's user namespace.
    let mut z = TestZone::sparse("a12");
    let shared = z.tmp.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("f"), "from the host").unwrap();
    std::os::unix::fs::chown(shared.join("f"), Some(1000), Some(1000)).unwrap();
    let root = z.spec.root.display().to_string();
    std::fs::create_dir_all(z.spec.root.join("mnt/data")).unwrap();
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()))
        .set("allow.mount", Value::Bool(true))
        .set(
            "mount",
            Value::List(vec![
                format!("{} {root}/mnt/data nullfs rw 0 0", shared.display()),
                format!("tmpfs {root}/srv tmpfs rw,size=1m,mode=0755 0 0"),
            ]),
        );
    z.ready().expect("ready");
    z.boot().expect("boot");
    let o = z.sh(
        "stat -c '%u %g' /mnt/data /mnt/data/f /srv && echo x > /mnt/data/g && echo y > /srv/g && cat /srv/g",
    );
    assert_eq!(
        o.stdout.lines().collect::<Vec<_>>(),
        ["0 0", "1000 1000", "0 0", "y"],
        "{o:?}"
    );
    let m = std::fs::metadata(shared.join("g")).unwrap();
    assert_eq!((m.uid(), m.gid()), (0, 0), "stored with the zone's ids");
    // The mount lines, made by the host, are locked like the rest.
    let o = z.sh("umount /mnt/data; umount -l /mnt/data; cat /mnt/data/f");
    assert!(o.stdout.contains("from the host"), "{o:?}");
    z.halt();
    assert!(host_mounts_under(&z.spec.root).is_empty());
}

#[test]
fn a07_ip4_inherit_shares_the_hosts_network_and_nothing_more() {
    let mut z = TestZone::sparse("a07");
    z.set("initname", Value::Str("/bin/sleep".into()))
        .set("bootargs", Value::Str("1000".into()))
        .set("ip4", Value::Str("inherit".into()));
    z.ready().expect("ready");
    z.boot().expect("boot");
    z.install_attack();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let (n, o) = count_accepts(|| l.accept().is_ok(), || z.attack(&["connect-tcp", &port]));
    assert_eq!(
        n, 1,
        "ip4 = inherit: the host's loopback is not shared: {o:?}"
    );
    // The network is all it shares.
    let k = HostKey::add();
    let o = z.attack(&["keyread", &k.desc]);
    assert!(
        !o.stdout.contains(&k.payload),
        "a07: read the host's key: {o:?}"
    );
    let o = z.attack(&["raw-socket"]);
    assert_no_escape(&o, "a07 raw socket with ip4 = inherit");
}

#[test]
fn p05_jail_path_setuid_binary_for_host_users() {
    // jail(8): `path` names the root itself, in a directory host users
    // may traverse; what the jail's root makes setuid there must not
    // give a host user root (config.md: the parent is refused or the
    // root is nosuid on the host).
    use std::os::unix::fs::PermissionsExt;
    let mut w = ToolWorld::new("p05");
    let name = w.name("p05");
    let public = tempfile::Builder::new()
        .prefix("zones-e2e-public-")
        .tempdir()
        .unwrap();
    let root = public.path().join("root");
    std::fs::set_permissions(public.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    install::sparse(&root, &name).unwrap();
    zones_e2e::copy_exe(bin("zattack"), root.join("zattack"));
    std::fs::set_permissions(public.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    w.names.push(name.clone());
    let o = w.run(
        "jail",
        &[
            "-c",
            &format!("name={name}"),
            &format!("path={}", root.display()),
            "brand=sparse",
            "persist",
        ],
    );
    if o.status != 0 {
        // Refused: the rule's first way.
        assert!(!o.stderr.is_empty(), "{o:?}");
        return;
    }
    let o = w.run("jexec", &[&name, "/zattack", "plant-suid", "/bin2"]);
    assert!(o.stdout.contains("plant"), "jexec did not run: {o:?}");
    let (made, s) = run_as_nobody(&root.join("bin2"));
    assert!(
        !made,
        "p05: uid 65534 got root through the jail's path: {s} (plant: {o:?})"
    );
}

#[test]
fn k20_attacks_from_the_zones_init() {
    // The boot path: init (started by zsched, not entered) and what it
    // starts run under the same rules as entered processes.
    use std::os::unix::fs::PermissionsExt;
    let k = HostKey::add();
    let d = Decoy::new();
    let mut z = TestZone::sparse("k20");
    let script = format!(
        "#!/bin/sh\n\
         /zattack keyread {desc} > /init-out 2>&1\n\
         /zattack userns >> /init-out 2>&1\n\
         /zattack iouring >> /init-out 2>&1\n\
         /zattack fdscan k20 >> /init-out 2>&1\n\
         /zattack create {host}/marker >> /init-out 2>&1\n\
         echo finished >> /init-out\n\
         exec /bin/sleep 1000\n",
        desc = k.desc,
        host = d.host_str()
    );
    let f = z.spec.root.join("init-attack");
    std::fs::write(&f, script).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
    z.install_attack();
    z.set("initname", Value::Str("/init-attack".into()));
    z.ready().expect("ready");
    z.boot().expect("boot");
    let out = z.spec.root.join("init-out");
    let t = Instant::now();
    let text = loop {
        let s = std::fs::read_to_string(&out).unwrap_or_default();
        if s.contains("finished") || t.elapsed() > Duration::from_secs(10) {
            break s;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let o = Output {
        status: 0,
        stdout: text,
        stderr: String::new(),
    };
    assert!(o.stdout.contains("finished"), "init never finished: {o:?}");
    d.assert_untouched(&o, "k20 from init");
    assert!(
        !o.stdout.contains(&k.payload),
        "k20: init read the host's key: {o:?}"
    );
    assert_no_escape(&o, "k20 attacks from init");
}
