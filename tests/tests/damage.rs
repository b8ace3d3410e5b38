//! Damaged state (issue 14): `engine.json` emptied, garbled or torn; one
//! zone record garbled; the state directory read-only; a full file system
//! (a small tmpfs as the state directory); record writes failing with EIO
//! (a FUSE file system of the test's own on the record directory). In every case no running zone
//! is lost or orphaned, uniqids stay unique (a new zone's is above every
//! live one's), and each message names the file. A write that fails
//! fails the operation that needed it, with the path, and undoes it:
//! the zone it would have made does not run ([`zhost::Host::check`]
//! after every step).

mod zhost;

use std::path::Path;
use zhost::Host;

/// Boot `names` under a fresh zoned; their (name, uniqid, zsched pid).
fn booted(host: &mut Host, names: &[&str]) -> Vec<(String, u64, u32)> {
    assert!(host.start_zoned(None));
    for n in names {
        host.zoneadm_ok(&["-z", n, "boot"]);
    }
    let s = host.check("booted");
    let mut v: Vec<_> = s
        .zones
        .iter()
        .filter(|z| !z.id.is_global())
        .map(|z| (z.name.to_string(), z.uniqid, z.zsched_pid))
        .collect();
    v.sort();
    v
}

fn same_zones(host: &mut Host, what: &str, want: &[(String, u64, u32)]) -> u64 {
    let s = host.check(what);
    let mut got: Vec<_> = s
        .zones
        .iter()
        .filter(|z| !z.id.is_global())
        .map(|z| (z.name.to_string(), z.uniqid, z.zsched_pid))
        .collect();
    got.sort();
    assert_eq!(
        got,
        want,
        "{what}: the same zones, uniqids, zscheds\n{}",
        host.log()
    );
    got.iter().map(|z| z.1).max().unwrap_or(0)
}

/// A new zone after the damage gets a uniqid above every live one's.
fn new_zone_is_unique(host: &mut Host, name: &str, above: u64) {
    host.zoneadm_ok(&["-z", name, "boot"]);
    let s = host.check(&format!("{name} booted after the damage"));
    let z = s.zone_by_name(name).expect("booted");
    assert!(
        z.uniqid > above,
        "{name} got uniqid {} (live up to {above})",
        z.uniqid
    );
}

#[test]
fn a_damaged_engine_json_orphans_no_zone_and_uniqids_stay_unique() {
    type Damage = fn(&[u8]) -> Vec<u8>;
    let cases: [(&str, Damage); 3] = [
        ("emptied", |_| Vec::new()),
        ("garbled", |_| b"\x00\x17not { json".to_vec()),
        ("torn", |b| b[..b.len() / 2].to_vec()),
    ];
    for (how, damage) in cases {
        let mut host = Host::new(&format!("dmg-engine-{how}"), &["a", "b", "c"]);
        let before = booted(&mut host, &["a", "b"]);
        host.kill9_zoned();
        let ej = host.state_dir().join("engine.json");
        let old = std::fs::read(&ej).unwrap();
        std::fs::write(&ej, damage(&old)).unwrap();
        assert!(host.start_zoned(None), "{how}: zoned starts");
        let log = host.log();
        assert!(
            log.contains(&format!("{}:", ej.display())),
            "{how}: the message names {}:\n{log}",
            ej.display()
        );
        let high = same_zones(&mut host, how, &before);
        new_zone_is_unique(&mut host, "c", high);
        // And across one more restart (engine.json is whole again).
        host.kill9_zoned();
        assert!(host.start_zoned(None));
        host.halt_all();
    }
}

#[test]
fn one_garbled_record_blocks_no_other_and_its_zone_is_recovered_from_the_kernel() {
    let mut host = Host::new("dmg-record", &["a", "b", "c"]);
    let before = booted(&mut host, &["a", "b"]);
    host.kill9_zoned();
    let a = before.iter().find(|z| z.0 == "a").unwrap();
    let rec = host.state_dir().join(format!("zones/{}.json", a.1));
    std::fs::write(&rec, b"{ \"id\": 1, \"name\": ").unwrap();
    assert!(host.start_zoned(None));
    let log = host.log();
    assert!(
        log.contains(&format!("{}:", rec.display())),
        "the message names {}:\n{log}",
        rec.display()
    );
    assert!(Path::new(&format!("{}.damaged", rec.display())).exists());
    let high = same_zones(&mut host, "one record garbled", &before);
    new_zone_is_unique(&mut host, "c", high);
    host.halt_all();
    assert!(
        !Path::new(&format!("{}.damaged", rec.display())).exists(),
        "the damaged copy goes with its zone"
    );
}

#[test]
fn a_read_only_state_directory_fails_boot_naming_the_file_and_runs_nothing() {
    let mut host = Host::new("dmg-ro", &["a", "b"]);
    let before = booted(&mut host, &["a"]);
    host.state_read_only(true);
    let out = host.zoneadm(&["-z", "b", "boot"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!("boot on a read-only state directory: {err}");
    assert!(!out.status.success(), "boot on a read-only state directory");
    assert!(err.starts_with("zoneadm: "), "{err}");
    assert!(
        err.contains(&host.state_dir().display().to_string()),
        "names the file: {err}"
    );
    assert!(err.contains("Read-only file system"), "{err}");
    same_zones(&mut host, "b refused", &before);
    // Halting works (a later engine would finish it anyway); its record
    // cannot be removed until the directory is writable again.
    host.zoneadm_ok(&["-z", "a", "halt"]);
    host.kill9_zoned();
    host.state_read_only(false);
    assert!(host.start_zoned(None));
    same_zones(&mut host, "after the remount", &[]);
    new_zone_is_unique(&mut host, "b", before[0].1);
    host.halt_all();

    // Only the records read-only: engine.json is written, the zone's
    // record is not. A create fails and leaves nothing; a boot of a
    // ready zone fails and leaves it ready, init not started.
    host.zoneadm_ok(&["-z", "a", "ready"]);
    let zones = host.state_dir().join("zones");
    host.read_only(&zones, true);
    for (zone, op) in [("b", "boot"), ("a", "boot")] {
        let out = host.zoneadm(&["-z", zone, op]);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        eprintln!("{op} {zone} with read-only records: {err}");
        assert!(!out.status.success(), "{op} {zone} with read-only records");
        assert!(
            err.contains(&format!("{}/", zones.display())),
            "names the record: {err}"
        );
        assert!(err.contains("Read-only file system"), "{err}");
    }
    let s = host.check("records read-only");
    assert_eq!(s.zones.len(), 2, "global and a");
    let a = s.zone_by_name("a").expect("a stays");
    assert_eq!(a.status, zones::zone::Status::Ready);
    assert_eq!(a.init_pid, 0, "init never started");
    host.read_only(&zones, false);
    host.zoneadm_ok(&["-z", "a", "boot"]);
    host.check("a booted once writable");
    host.halt_all();
}

#[test]
fn a_full_file_system_fails_boot_naming_the_file_and_loses_no_running_zone() {
    let mut host = Host::new("dmg-full", &["a", "b", "c", "d"]);
    let state = host.state_on_tmpfs("1m");
    let before = booted(&mut host, &["a", "b", "c"]);
    // Fill what is left.
    let fill = state.join("fill");
    let st = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", fill.display()))
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!st.success(), "dd stops at ENOSPC");
    let out = host.zoneadm(&["-z", "d", "boot"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!("boot on a full state directory: {err}");
    assert!(!out.status.success(), "boot on a full state directory");
    assert!(
        err.contains(&state.display().to_string()),
        "names the file: {err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    same_zones(&mut host, "d refused", &before);
    // kill -9 with the disk still full: every zone re-adopted.
    host.kill9_zoned();
    assert!(
        host.start_zoned(None),
        "zoned starts on a full state directory"
    );
    let high = same_zones(&mut host, "restarted on a full disk", &before);
    std::fs::remove_file(&fill).unwrap();
    new_zone_is_unique(&mut host, "d", high);
    host.kill9_zoned();
    assert!(host.start_zoned(None));
    host.halt_all();
}

#[test]
fn a_restart_kills_no_live_zone_whose_zsched_is_stopped_or_whose_socket_is_gone() {
    let mut host = Host::new("dmg-unseen", &["a", "b"]);
    let before = booted(&mut host, &["a", "b"]);
    host.kill9_zoned();
    let (za, zb) = (before[0].2, before[1].2);
    // a's zsched stopped, b's control socket (the whole run/) removed.
    // SAFETY: kill takes plain integers.
    unsafe { libc::kill(za as i32, libc::SIGSTOP) };
    std::fs::remove_dir_all(host.state_dir().join("run")).unwrap();
    assert!(host.start_zoned(None));
    let s = host.snapshot();
    for (name, uniqid, zsched) in &before {
        let z = s
            .zone_by_name(name)
            .unwrap_or_else(|| panic!("{name} is listed\n{}", host.log()));
        assert_eq!((z.uniqid, z.zsched_pid), (*uniqid, *zsched));
        assert_eq!(z.status, zones::zone::Status::Running, "{name}");
        assert!(zhost::zones_e2e_alive(*zsched), "zsched of {name} lives");
        assert!(zhost::zones_e2e_alive(z.init_pid), "init of {name} lives");
    }
    let cg = host.zone_cgroups();
    assert_eq!(cg.len(), 2, "both zones' cgroups are kept: {cg:?}");
    // Continued, a is followed again; both halt, leaving nothing.
    // SAFETY: kill takes plain integers.
    unsafe { libc::kill(za as i32, libc::SIGCONT) };
    host.zoneadm_ok(&["-z", "a", "halt"]);
    host.zoneadm_ok(&["-z", "b", "halt"]);
    assert!(!zhost::zones_e2e_alive(za) && !zhost::zones_e2e_alive(zb));
    host.check("both halted");
    assert_eq!(host.snapshot().zones.len(), 1);
}

/// A record directory whose writes fail with EIO at will: a FUSE file
/// system of the test's own (no device-mapper on every kernel; a block
/// device's EIO shows only at writeback, and the engine does not fsync).
/// Flat, in memory: what `state::write_atomic` and the engine's reads
/// need (create, write, rename, unlink, read, readdir).
mod eiofs {
    use fuser::{
        Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
        LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory,
        ReplyEmpty, ReplyEntry, ReplyWrite, Request, WriteFlags,
    };
    use std::collections::BTreeMap;
    use std::ffi::{OsStr, OsString};
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime};

    const TTL: Duration = Duration::from_secs(0);

    #[derive(Default)]
    struct Files {
        next: u64,
        names: BTreeMap<OsString, u64>,
        data: BTreeMap<u64, Vec<u8>>,
    }

    struct EioFs {
        files: Mutex<Files>,
        fail: Arc<AtomicBool>,
    }

    fn attr(ino: u64, size: Option<usize>) -> FileAttr {
        let now = SystemTime::now();
        FileAttr {
            ino: INodeNo(ino),
            size: size.unwrap_or(0) as u64,
            blocks: 0,
            atime: now,
            mtime: now,
            ctime: now,
            crtime: now,
            kind: if size.is_some() {
                FileType::RegularFile
            } else {
                FileType::Directory
            },
            perm: if size.is_some() { 0o600 } else { 0o700 },
            nlink: if size.is_some() { 1 } else { 2 },
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }

    impl EioFs {
        fn files(&self) -> std::sync::MutexGuard<'_, Files> {
            self.files.lock().unwrap()
        }
        fn attr_of(&self, ino: u64) -> Option<FileAttr> {
            if ino == 1 {
                return Some(attr(1, None));
            }
            self.files()
                .data
                .get(&ino)
                .map(|d| attr(ino, Some(d.len())))
        }
    }

    impl Filesystem for EioFs {
        fn lookup(&self, _r: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
            let ino = (parent.0 == 1)
                .then(|| self.files().names.get(name).copied())
                .flatten();
            match ino.and_then(|i| self.attr_of(i)) {
                Some(a) => reply.entry(&TTL, &a, Generation(0)),
                None => reply.error(Errno::ENOENT),
            }
        }

        fn getattr(&self, _r: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
            match self.attr_of(ino.0) {
                Some(a) => reply.attr(&TTL, &a),
                None => reply.error(Errno::ENOENT),
            }
        }

        #[allow(clippy::too_many_arguments)]
        fn setattr(
            &self,
            _r: &Request,
            ino: INodeNo,
            _mode: Option<u32>,
            _uid: Option<u32>,
            _gid: Option<u32>,
            size: Option<u64>,
            _atime: Option<fuser::TimeOrNow>,
            _mtime: Option<fuser::TimeOrNow>,
            _ctime: Option<SystemTime>,
            _fh: Option<FileHandle>,
            _crtime: Option<SystemTime>,
            _chgtime: Option<SystemTime>,
            _bkuptime: Option<SystemTime>,
            _flags: Option<fuser::BsdFileFlags>,
            reply: ReplyAttr,
        ) {
            if let (Some(size), Some(d)) = (size, self.files().data.get_mut(&ino.0)) {
                d.resize(size as usize, 0);
            }
            match self.attr_of(ino.0) {
                Some(a) => reply.attr(&TTL, &a),
                None => reply.error(Errno::ENOENT),
            }
        }

        fn create(
            &self,
            _r: &Request,
            parent: INodeNo,
            name: &OsStr,
            _mode: u32,
            _umask: u32,
            _flags: i32,
            reply: ReplyCreate,
        ) {
            if parent.0 != 1 {
                return reply.error(Errno::ENOENT);
            }
            let mut f = self.files();
            let ino = match f.names.get(name) {
                Some(&i) => i,
                None => {
                    f.next += 1;
                    let i = f.next + 1;
                    f.names.insert(name.to_owned(), i);
                    i
                }
            };
            f.data.insert(ino, Vec::new());
            drop(f);
            reply.created(
                &TTL,
                &attr(ino, Some(0)),
                Generation(0),
                FileHandle(0),
                FopenFlags::empty(),
            );
        }

        #[allow(clippy::too_many_arguments)]
        fn read(
            &self,
            _r: &Request,
            ino: INodeNo,
            _fh: FileHandle,
            offset: u64,
            size: u32,
            _flags: OpenFlags,
            _lo: Option<LockOwner>,
            reply: ReplyData,
        ) {
            match self.files().data.get(&ino.0) {
                Some(d) => {
                    let from = (offset as usize).min(d.len());
                    let to = (from + size as usize).min(d.len());
                    reply.data(&d[from..to]);
                }
                None => reply.error(Errno::ENOENT),
            }
        }

        #[allow(clippy::too_many_arguments)]
        fn write(
            &self,
            _r: &Request,
            ino: INodeNo,
            _fh: FileHandle,
            offset: u64,
            data: &[u8],
            _wf: WriteFlags,
            _flags: OpenFlags,
            _lo: Option<LockOwner>,
            reply: ReplyWrite,
        ) {
            if self.fail.load(Ordering::SeqCst) {
                return reply.error(Errno::EIO);
            }
            match self.files().data.get_mut(&ino.0) {
                Some(d) => {
                    let end = offset as usize + data.len();
                    if d.len() < end {
                        d.resize(end, 0);
                    }
                    d[offset as usize..end].copy_from_slice(data);
                    reply.written(data.len() as u32);
                }
                None => reply.error(Errno::ENOENT),
            }
        }

        fn flush(
            &self,
            _r: &Request,
            _i: INodeNo,
            _fh: FileHandle,
            _lo: LockOwner,
            reply: ReplyEmpty,
        ) {
            reply.ok();
        }

        fn fsync(&self, _r: &Request, _i: INodeNo, _fh: FileHandle, _d: bool, reply: ReplyEmpty) {
            reply.ok();
        }

        fn unlink(&self, _r: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
            let mut f = self.files();
            match f.names.remove(name).filter(|_| parent.0 == 1) {
                Some(ino) => {
                    f.data.remove(&ino);
                    reply.ok()
                }
                None => reply.error(Errno::ENOENT),
            }
        }

        fn rename(
            &self,
            _r: &Request,
            parent: INodeNo,
            name: &OsStr,
            newparent: INodeNo,
            newname: &OsStr,
            _flags: RenameFlags,
            reply: ReplyEmpty,
        ) {
            let mut f = self.files();
            if parent.0 != 1 || newparent.0 != 1 {
                return reply.error(Errno::EXDEV);
            }
            let Some(ino) = f.names.remove(name) else {
                return reply.error(Errno::ENOENT);
            };
            if let Some(old) = f.names.insert(newname.to_owned(), ino) {
                f.data.remove(&old);
            }
            reply.ok()
        }

        fn readdir(
            &self,
            _r: &Request,
            ino: INodeNo,
            _fh: FileHandle,
            offset: u64,
            mut reply: ReplyDirectory,
        ) {
            if ino.0 != 1 {
                return reply.error(Errno::ENOTDIR);
            }
            let f = self.files();
            let mut all: Vec<(u64, FileType, OsString)> = vec![
                (1, FileType::Directory, ".".into()),
                (1, FileType::Directory, "..".into()),
            ];
            all.extend(
                f.names
                    .iter()
                    .map(|(n, &i)| (i, FileType::RegularFile, n.clone())),
            );
            for (k, (i, kind, name)) in all.into_iter().enumerate().skip(offset as usize) {
                if reply.add(INodeNo(i), k as u64 + 1, kind, &name) {
                    break;
                }
            }
            reply.ok()
        }
    }

    /// The file system mounted on a directory; unmounted on drop.
    pub struct Mounted {
        pub dir: PathBuf,
        pub fail: Arc<AtomicBool>,
        _session: fuser::BackgroundSession,
    }

    impl Mounted {
        pub fn on(dir: &Path) -> Mounted {
            use std::os::fd::AsRawFd;
            let dev = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/fuse")
                .expect("/dev/fuse");
            let data = format!(
                "fd={},rootmode=40700,user_id=0,group_id=0,default_permissions\0",
                dev.as_raw_fd()
            );
            let src = c"zones-eiofs";
            let fstype = c"fuse";
            let target = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: every pointer is a NUL-terminated string that lives
            // across the call; mount(2) only reads them.
            let rc = unsafe {
                libc::mount(
                    src.as_ptr(),
                    target.as_ptr(),
                    fstype.as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV,
                    data.as_ptr().cast(),
                )
            };
            assert_eq!(
                rc,
                0,
                "mount the EIO file system on {}: {}",
                dir.display(),
                std::io::Error::last_os_error()
            );
            let fail = Arc::new(AtomicBool::new(false));
            let fs = EioFs {
                files: Mutex::new(Files::default()),
                fail: fail.clone(),
            };
            let session = fuser::Session::from_fd(
                fs,
                dev.into(),
                fuser::SessionACL::All,
                fuser::Config::default(),
            )
            .and_then(fuser::Session::spawn)
            .expect("FUSE session");
            Mounted {
                dir: dir.to_path_buf(),
                fail,
                _session: session,
            }
        }
    }

    impl Drop for Mounted {
        fn drop(&mut self) {
            let target = std::ffi::CString::new(self.dir.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: a NUL-terminated path that lives across the call.
            unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

#[test]
fn a_write_that_fails_with_eio_fails_boot_naming_the_record_and_runs_nothing() {
    use std::sync::atomic::Ordering;
    let mut host = Host::new("dmg-eio", &["a", "b", "c"]);
    let records = host.state_dir().join("zones");
    std::fs::create_dir_all(&records).unwrap();
    // Declared after the host, dropped before it: on a failure the host's
    // guard then halts what runs with the plain directory beneath.
    let eio = eiofs::Mounted::on(&records);
    let before = booted(&mut host, &["a", "b"]);
    assert_eq!(
        std::fs::read_dir(&records).unwrap().count(),
        2,
        "the records are on the test's file system"
    );
    eio.fail.store(true, Ordering::SeqCst);
    let out = host.zoneadm(&["-z", "c", "boot"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!("boot with record writes failing with EIO: {err}");
    assert!(!out.status.success(), "boot with EIO on the record");
    assert!(err.starts_with("zoneadm: "), "{err}");
    assert!(
        err.contains(&format!("{}/", records.display())),
        "names the record: {err}"
    );
    assert!(err.contains("Input/output error"), "{err}");
    // Nothing half-done: c has no cgroup, zsched, record or temporary.
    let high = same_zones(&mut host, "c refused (EIO)", &before);
    // A restart with the writes still failing loses nothing either.
    host.kill9_zoned();
    assert!(host.start_zoned(None), "zoned starts while writes fail");
    same_zones(&mut host, "restarted while writes fail", &before);
    eio.fail.store(false, Ordering::SeqCst);
    new_zone_is_unique(&mut host, "c", high);
    host.halt_all();
    drop(eio);
}
