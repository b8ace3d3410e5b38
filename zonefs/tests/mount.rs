//! A real FUSE mount fed by hand-built snapshots. These tests need root
//! (a FUSE mount without fusermount) and fail, not skip, without it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::{DirEntryExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use zonefs::testkit::{Mounted, global, snapshot, zone};
use zones::zone::{Status, ZoneId};

fn need_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "zonefs mount tests need root (a FUSE mount without fusermount)"
    );
}

/// Every regular file under `dir`, not following symbolic links.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            files(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

fn read(p: impl AsRef<Path>) -> String {
    let p = p.as_ref();
    String::from_utf8(std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// Run a shell loop over the files; its outputs split on NUL.
fn by_shell(script: &str, paths: &[PathBuf]) -> Vec<Vec<u8>> {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .args(paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut parts: Vec<Vec<u8>> = out.stdout.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
    assert_eq!(parts.pop(), Some(vec![]), "{script}: output ends with NUL");
    parts
}

#[test]
fn every_path_reads_alike_with_every_reader_and_matches_the_snapshot() {
    need_root();
    let snap = snapshot(1, vec![global(), zone(3, "web", 7)]);
    // `kstat -p` of this snapshot, from the engine's formatter.
    let kstat_p = |only: Option<u32>| {
        let ks: Vec<_> = zones::kstat::format::kstats(&snap)
            .into_iter()
            .filter(|k| only.is_none_or(|id| k.instance == id))
            .collect();
        let q = zones::kstat::format::Query::default();
        zones::kstat::format::render(&ks, &q, zones::kstat::format::Style::Parseable).0
    };
    let (kstat_all, kstat_web) = (kstat_p(None), kstat_p(Some(3)));
    let m = Mounted::new(snap.clone());
    let mut all = Vec::new();
    files(m.root(), &mut all);
    all.sort();
    // 45 files per zone, 2 rctls and 6 params of web (params/network, its
    // IP type, among them), .kstat and .json.
    assert_eq!(all.len(), 45 + 45 + 2 + 6 + 2, "{all:?}");

    let by_std: Vec<Vec<u8>> = all.iter().map(|p| std::fs::read(p).unwrap()).collect();
    for (p, b) in all.iter().zip(&by_std) {
        assert_eq!(
            std::fs::metadata(p).unwrap().len(),
            b.len() as u64,
            "st_size of {}",
            p.display()
        );
        assert!(
            b.is_empty() || b.ends_with(b"\n"),
            "{} ends with a newline",
            p.display()
        );
    }
    let by_cat = by_shell(r#"for f; do cat -- "$f"; printf '\0'; done"#, &all);
    assert_eq!(by_cat, by_std, "cat");
    let by_read = by_shell(
        r#"for f; do IFS= read -r -d '' v < "$f"; printf '%s\0' "$v"; done"#,
        &all,
    );
    assert_eq!(by_read, by_std, "bash read");
    let by_head = by_shell(r#"for f; do head -c1 -- "$f"; printf '\0'; done"#, &all);
    let firsts: Vec<Vec<u8>> = by_std
        .iter()
        .map(|b| b.iter().take(1).copied().collect())
        .collect();
    assert_eq!(by_head, firsts, "head -c1");
    let py = Command::new("python3")
        .arg("-c")
        .arg("import sys\nfor p in sys.argv[1:]:\n    sys.stdout.write(open(p).read() + '\\0')")
        .args(&all)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let mut by_py: Vec<Vec<u8>> = py.stdout.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
    by_py.pop();
    assert_eq!(by_py, by_std, "python open().read()");

    // Contents, exactly.
    let expect: BTreeMap<&str, &str> = [
        ("web/status", "running\n"),
        ("web/kstatus", "running\n"),
        ("web/id", "3\n"),
        ("web/name", "web\n"),
        ("web/uniqid", "7\n"),
        ("web/root", "/srv/zones/web\n"),
        ("web/brand", "sparse\n"),
        ("web/hostname", "web.example\n"),
        ("web/parent", "0\n"),
        ("web/init_pid", "4003\n"),
        ("web/boot_time", "1700000100\n"),
        ("web/privileges", "cap_chown\ncap_kill\n"),
        ("web/loadavg", "0.52 0.31 0.10 3/7 4103\n"),
        ("web/procs", "4003\n4103\n"),
        ("web/params/persist", "true\n"),
        ("web/params/exec.start", "/bin/sh\n/etc/rc\n"),
        ("web/params/host.hostname", "web.example\n"),
        ("web/params/zone.max-processes", "100\n"),
        ("web/params/zone.max-locked-memory", "67108864\n"),
        ("web/rctl/zone.max-processes", "100\n"),
        ("web/rctl/zone.max-locked-memory", "67108864\n"),
        ("web/kstat/nprocs/usage", "3\n"),
        ("web/kstat/nprocs/value", "100\n"),
        ("web/kstat/lockedmem/usage", "4096\n"),
        ("web/kstat/lockedmem/value", "67108864\n"),
        ("web/kstat/swapresv/usage", "1048576\n"),
        ("web/kstat/swapresv/value", "18446744073709551615\n"),
        ("web/kstat/zone_misc/avenrun_1min", "133\n"),
        ("web/kstat/zone_misc/avenrun_5min", "79\n"),
        ("web/kstat/zone_misc/avenrun_15min", "26\n"),
        ("web/kstat/zone_misc/nsec_user", "1500\n"),
        ("web/kstat/zone_misc/nsec_sys", "2500\n"),
        ("web/kstat/zone_misc/nsec_waitrq", "10\n"),
        ("web/kstat/zone_misc/forkfail_cap", "2\n"),
        ("web/kstat/zone_misc/forkfail_noproc", "0\n"),
        ("web/kstat/zone_misc/forkfail_nomem", "0\n"),
        ("web/kstat/zone_misc/forkfail_misc", "0\n"),
        ("web/kstat/zone_misc/nested_interp", "0\n"),
        ("web/kstat/zone_misc/init_pid", "4003\n"),
        ("web/kstat/zone_misc/boot_time", "1700000100\n"),
        ("web/kstat/zone_misc/zonename", "web\n"),
        ("web/refs/zone_ref", "3\n"),
        ("web/refs/cred_ref", "5\n"),
        ("web/refs/subsys/MNTFS", "1\n"),
        ("web/refs/subsys/NFS", "0\n"),
        ("global/status", "running\n"),
        ("global/id", "0\n"),
        ("global/loadavg", "1.00 0.50 0.25 120/300 3\n"),
    ]
    .into_iter()
    .collect();
    for (rel, want) in &expect {
        assert_eq!(read(m.path(rel)), *want, "{rel}");
    }
    let subsys: Vec<String> = {
        let mut v: Vec<String> = std::fs::read_dir(m.path("web/refs/subsys"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        subsys,
        ["IPC", "LOFI", "MNTFS", "NFS", "NFSv4", "SMBFS", "VFS"]
    );
    let all_web = read(m.path("web/kstat/all"));
    for l in [
        "caps:3:lockedmem_zone_3:class\tzone_caps",
        "caps:3:nprocs_zone_3:crtime\t5.000000123",
        "caps:3:nprocs_zone_3:snaptime\t9.500000000",
        "caps:3:nprocs_zone_3:usage\t3",
        "caps:3:nprocs_zone_3:value\t100",
        "caps:3:swapresv_zone_3:value\t18446744073709551615",
        "caps:3:nprocs_zone_3:zonename\tweb",
        "zones:3:web:avenrun_1min\t133",
        "zones:3:web:class\tzone_misc",
        "zones:3:web:zonename\tweb",
    ] {
        assert!(
            all_web.lines().any(|x| x == l),
            "kstat/all lacks {l:?}:\n{all_web}"
        );
    }
    assert_eq!(all_web, kstat_web, "kstat/all is kstat -p of web");
    let kstat = read(m.path(".kstat"));
    assert_eq!(kstat, kstat_all, ".kstat is kstat -p");
    let keys: Vec<&str> = kstat
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert!(keys[0].starts_with("caps:0:"), "{}", keys[0]);
    assert!(keys.last().unwrap().starts_with("zones:3:web:"));
    let json: serde_json::Value = serde_json::from_str(&read(m.path("web/json"))).unwrap();
    assert_eq!(json["status"], "running");
    assert_eq!(json["kstat"]["nprocs"]["value"], 100);
    assert_eq!(
        json["params"]["exec.start"],
        serde_json::json!(["/bin/sh", "/etc/rc"])
    );
    assert_eq!(json["refs"]["subsys"]["MNTFS"], 1);
    let all_json: serde_json::Value = serde_json::from_str(&read(m.path(".json"))).unwrap();
    assert_eq!(all_json.as_array().unwrap().len(), 2);
    assert_eq!(
        std::fs::read_link(m.path(".by-id/3")).unwrap(),
        Path::new("../web")
    );
    assert_eq!(read(m.path(".by-id/3/status")), "running\n");
    assert_eq!(read(m.path(".by-id/0/name")), "global\n");

    // Modes and owner.
    let md = std::fs::metadata(m.path("web")).unwrap();
    assert_eq!((md.mode() & 0o7777, md.uid(), md.gid()), (0o555, 0, 0));
    let mf = std::fs::metadata(m.path("web/status")).unwrap();
    assert_eq!((mf.mode() & 0o7777, mf.uid(), mf.gid()), (0o444, 0, 0));
    assert_eq!(mf.mtime(), 1_700_000_001, "mtime is the snapshot's time");
    // Stable inodes: the same after a new snapshot.
    let ino = mf.ino();
    let mut w = zone(3, "web", 7);
    w.kstat.nprocs = 4;
    m.push(snapshot(2, vec![global(), w]));
    assert_eq!(std::fs::metadata(m.path("web/status")).unwrap().ino(), ino);
}

#[test]
fn a_zone_appears_and_goes_while_an_open_file_keeps_its_bytes() {
    need_root();
    let m = Mounted::new(snapshot(1, vec![global()]));
    assert!(!m.path("db").exists());
    let names = |m: &Mounted| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(m.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    // Listed twice before the zone comes (the kernel keeps the global
    // zone's listing of the root): the listing after it still has it.
    assert_eq!(names(&m), [".by-id", ".json", ".kstat", "global"]);
    assert_eq!(names(&m), [".by-id", ".json", ".kstat", "global"]);
    m.push(snapshot(2, vec![global(), zone(5, "db", 11)]));
    assert_eq!(read(m.path("db/status")), "running\n");
    assert_eq!(names(&m), [".by-id", ".json", ".kstat", "db", "global"]);

    let mut open = std::fs::File::open(m.path("db/kstat/all")).unwrap();
    let mut first = [0u8; 5];
    open.read_exact(&mut first).unwrap();
    let mut dying = zone(5, "db", 11);
    dying.status = Status::Dying;
    m.push(snapshot(3, vec![global(), dying]));
    assert_eq!(
        read(m.path("db/status")),
        "down\n",
        "a dying zone is still shown"
    );
    m.push(snapshot(4, vec![global()]));
    assert_eq!(names(&m), [".by-id", ".json", ".kstat", "global"]);
    let e = std::fs::metadata(m.path("db")).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    assert!(std::fs::metadata(m.path(".by-id/5")).is_err());
    let mut rest = String::new();
    open.read_to_string(&mut rest).unwrap();
    assert!(
        format!("{}{rest}", std::str::from_utf8(&first).unwrap())
            .contains("caps:5:nprocs_zone_5:usage\t3\n"),
        "the open file kept its bytes"
    );
    // A new life of the same name is a new directory (new inodes).
    m.push(snapshot(5, vec![global(), zone(5, "db", 12)]));
    assert_eq!(read(m.path("db/uniqid")), "12\n");
}

#[test]
fn every_change_fails_with_erofs() {
    need_root();
    let m = Mounted::new(snapshot(1, vec![global(), zone(3, "web", 7)]));
    let erofs = |r: std::io::Result<()>, what: &str| {
        assert_eq!(r.unwrap_err().raw_os_error(), Some(libc::EROFS), "{what}");
    };
    erofs(
        std::fs::OpenOptions::new()
            .write(true)
            .open(m.path("web/status"))
            .map(drop),
        "open for writing",
    );
    erofs(std::fs::write(m.path("web/new"), b"x"), "create");
    erofs(std::fs::create_dir(m.path("web/d")), "mkdir");
    erofs(std::fs::remove_file(m.path("web/status")), "unlink");
    erofs(std::fs::remove_dir(m.path("web/params")), "rmdir");
    erofs(
        std::fs::rename(m.path("web/status"), m.path("web/s2")),
        "rename",
    );
    erofs(
        std::fs::set_permissions(
            m.path("web/status"),
            std::os::unix::fs::PermissionsExt::from_mode(0o666),
        ),
        "chmod",
    );
    erofs(std::os::unix::fs::symlink("x", m.path("web/l")), "symlink");
    erofs(
        std::fs::hard_link(m.path("web/status"), m.path("web/h")),
        "link",
    );
    erofs(
        nix::unistd::truncate(&m.path("web/status"), 0).map_err(Into::into),
        "truncate",
    );
    erofs(
        nix::sys::stat::mknod(
            &m.path("web/fifo"),
            nix::sys::stat::SFlag::S_IFIFO,
            nix::sys::stat::Mode::from_bits_truncate(0o644),
            0,
        )
        .map_err(Into::into),
        "mknod",
    );
    erofs(
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_TRUNC)
            .open(m.path("web/status"))
            .map(drop),
        "O_TRUNC",
    );
    let mut f = std::fs::File::open(m.path("web/status")).unwrap();
    assert!(f.write_all(b"x").is_err(), "write on a read-only open");
    assert_eq!(read(m.path("web/status")), "running\n");
}

#[test]
fn one_tick_one_content_and_the_next_tick_is_seen() {
    need_root();
    let m = Mounted::new(snapshot(1, vec![global(), zone(3, "web", 7)]));
    let usage = m.path("web/kstat/nprocs/usage");
    let a = std::fs::read(&usage).unwrap();
    let b = std::fs::read(&usage).unwrap();
    assert_eq!(a, b"3\n");
    assert_eq!(a, b);
    // The same size: only an invalidated page cache shows the new value.
    let mut w = zone(3, "web", 7);
    w.kstat.nprocs = 7;
    m.push(snapshot(2, vec![global(), w.clone()]));
    assert_eq!(std::fs::read(&usage).unwrap(), b"7\n");
    // A longer value: the size is new too. A one-page file opened before the
    // tick reads one tick, whole (the page cache is the inode's).
    let mut before = std::fs::File::open(&usage).unwrap();
    w.kstat.nprocs = 12;
    m.push(snapshot(3, vec![global(), w.clone()]));
    assert_eq!(std::fs::read(&usage).unwrap(), b"12\n");
    let mut old = String::new();
    before.read_to_string(&mut old).unwrap();
    assert!(old == "7\n" || old == "12\n", "{old:?}");
    assert_eq!(std::fs::metadata(&usage).unwrap().len(), 3);
    assert_eq!(read(m.path("web/loadavg")), "0.52 0.31 0.10 12/7 4103\n");
    // An unchanged file keeps the mtime of the snapshot that made it.
    assert_eq!(
        std::fs::metadata(m.path("web/status")).unwrap().mtime(),
        1_700_000_001
    );
    assert_eq!(std::fs::metadata(&usage).unwrap().mtime(), 1_700_000_003);
    // A parameter that is unset goes away.
    w.params.remove("persist");
    m.push(snapshot(4, vec![global(), w]));
    assert!(!m.path("web/params/persist").exists());
}

#[test]
fn a_listing_of_the_root_names_the_versions_a_lookup_finds() {
    need_root();
    let m = Mounted::new(snapshot(1, vec![global(), zone(3, "web", 7)]));
    // The inode readdir gives .kstat and .json (from the kernel's copy of
    // the listing, after the first) is the one stat finds, tick after tick.
    let check = |tick: u64| {
        for _ in 0..2 {
            for e in std::fs::read_dir(m.root()).unwrap() {
                let e = e.unwrap();
                let name = e.file_name().into_string().unwrap();
                if name == ".kstat" || name == ".json" {
                    let st = std::fs::symlink_metadata(m.path(&name)).unwrap();
                    assert_eq!(e.ino(), st.ino(), "{name} at tick {tick}");
                }
            }
        }
    };
    check(1);
    for seq in 2..5 {
        let mut w = zone(3, "web", 7);
        w.kstat.nprocs = seq;
        m.push(snapshot(seq, vec![global(), w]));
        check(seq);
    }
}

#[test]
fn a_read_split_over_calls_never_mixes_two_ticks() {
    need_root();
    let mut w = zone(3, "web", 7);
    w.procs = (10_000..12_000).collect(); // procs: 12,000 bytes, three pages
    let m = Mounted::new(snapshot(1, vec![global(), w.clone()]));
    let procs = m.path("web/procs");
    let first = std::fs::read(&procs).unwrap();
    assert_eq!(first.len(), 12_000);
    let mut f = std::fs::File::open(&procs).unwrap();
    let mut head = vec![0u8; 100];
    f.read_exact(&mut head).unwrap();
    // A tick, and another reader fills the cache with the new bytes.
    w.procs = (20_000..22_000).collect();
    m.push(snapshot(2, vec![global(), w]));
    let second = std::fs::read(&procs).unwrap();
    assert!(second.starts_with(b"20000\n"));
    let mut rest = Vec::new();
    f.read_to_end(&mut rest).unwrap();
    head.extend(rest);
    assert_eq!(
        head, first,
        "the open read the tick it was opened in, whole"
    );
}

#[test]
fn the_files_the_kernel_holds_hold_their_zone_until_it_dies_and_they_close() {
    need_root();
    let web = ZoneId(3);
    let m = Mounted::new(snapshot(1, vec![global(), zone(3, "web", 7)]));
    assert_eq!(m.holds.count(web), 0);
    // Opens are the kernel's own (no_open): a file holds its zone from its
    // lookup, whether open or only cached.
    let open = std::fs::File::open(m.path("web/status")).unwrap();
    assert!(!read(m.path("web/kstat/all")).is_empty());
    assert!(!read(m.path("web/kstat/all")).is_empty());
    assert_eq!(m.holds.count(web), 2, "one per file version, not per open");
    assert_eq!(m.handle().known_count(), 2);
    // The zone starts dying: what nobody has open is let go at once ...
    let mut dying = zone(3, "web", 7);
    dying.status = Status::Dying;
    m.push(snapshot(2, vec![global(), dying.clone()]));
    wait_until("the cached file lets go", || m.holds.count(web) == 1);
    // ... a lookup of a dying zone takes no hold ...
    assert_eq!(read(m.path("web/kstatus")), "dying\n");
    assert_eq!(m.holds.count(web), 1);
    // ... and the open file holds it until closed.
    drop(open);
    wait_until("the open file lets go", || m.holds.count(web) == 0);
}

/// Wait up to 5 s for `ok` (the kernel forgets asynchronously).
fn wait_until(what: &str, ok: impl Fn() -> bool) {
    let t0 = std::time::Instant::now();
    while !ok() {
        assert!(t0.elapsed().as_secs() < 5, "{what}: not within 5 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A new pid namespace, killed on drop (even when a test fails).
struct PidNamespace(std::process::Child);

impl Drop for PidNamespace {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Host pid of the pid-1 process of a new pid namespace (the zone's zsched).
fn spawn_pid_namespace() -> (PidNamespace, u32) {
    let child = PidNamespace(
        Command::new("unshare")
            .args(["--pid", "--fork", "--kill-child", "sleep", "60"])
            .spawn()
            .unwrap(),
    );
    let child_id = child.0.id();
    let t0 = std::time::Instant::now();
    loop {
        let kids = std::fs::read_to_string(format!("/proc/{child_id}/task/{child_id}/children"))
            .unwrap_or_default();
        if let Some(pid) = kids.split_whitespace().next() {
            let pid: u32 = pid.parse().unwrap();
            if zonefs::viewer::pid_ns(pid) != zonefs::viewer::pid_ns(std::process::id()) {
                return (child, pid);
            }
        }
        assert!(t0.elapsed().as_secs() < 10, "unshare did not start");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn a_reader_inside_a_zone_sees_only_its_zone() {
    need_root();
    let (_ns, zsched) = spawn_pid_namespace();
    let mut web = zone(3, "web", 7);
    web.zsched_pid = zsched;
    let m = Mounted::new(snapshot(1, vec![global(), web, zone(4, "db", 8)]));
    // (Not warmed from the global zone: the dentry cache is shared by every
    // caller of one mount, and opens are the kernel's alone, so a process
    // in a zone's pid namespace but the host's mount namespace can walk
    // what the global zone has cached. Zone processes proper never see the
    // host's mount; see fs.rs.) `.kstat` and `.json` are exact even so:
    assert!(read(m.path(".kstat")).contains("caps:4:"));
    let inside = |script: &str| -> (bool, String) {
        let out = Command::new("nsenter")
            .args([
                "-t",
                &zsched.to_string(),
                "-p",
                "--",
                "bash",
                "-c",
                script,
                "bash",
            ])
            .arg(m.root())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // The global zone's listings of the root and of .by-id, which the
    // kernel keeps, are never a zone's.
    let global_ls = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(m.root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    for _ in 0..2 {
        assert_eq!(global_ls("").len(), 6);
        assert_eq!(global_ls(".by-id"), ["0", "3", "4"]);
    }
    let (ok, ls) = inside(r#"ls -A "$1""#);
    assert!(ok);
    assert_eq!(
        ls.split_whitespace().collect::<Vec<_>>(),
        [".by-id", ".json", ".kstat", "web"]
    );
    assert_eq!(
        global_ls("").len(),
        6,
        "the zone's open dropped nothing it should not"
    );
    assert_eq!(global_ls("").len(), 6);
    let (ok, ls) = inside(r#"ls -A "$1""#);
    assert!(ok);
    assert_eq!(ls.split_whitespace().count(), 4, "{ls}");
    let (ok, s) = inside(r#"cat "$1/web/status""#);
    assert!(ok);
    assert_eq!(s, "running\n");
    assert!(!inside(r#"cat "$1/global/status""#).0, "global is hidden");
    assert!(!inside(r#"cat "$1/db/status""#).0, "another zone is hidden");
    assert!(
        !inside(r#"ls "$1/db""#).0,
        "another zone's directory is hidden"
    );
    let (_, byid) = inside(r#"ls -A "$1/.by-id""#);
    assert_eq!(byid.trim(), "3");
    let (_, k) = inside(r#"cat "$1/.kstat""#);
    assert!(
        k.lines()
            .all(|l| l.starts_with("caps:3:") || l.starts_with("zones:3:")),
        "{k}"
    );
    assert!(!k.is_empty());
    let (_, j) = inside(r#"cat "$1/.json""#);
    let j: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(j.as_array().unwrap().len(), 1);
    // A namespace nested in the zone is still the zone.
    let (ok, ls) = inside(r#"unshare --pid --fork ls -A "$1""#);
    assert!(ok);
    assert_eq!(
        ls.split_whitespace().collect::<Vec<_>>(),
        [".by-id", ".json", ".kstat", "web"]
    );
    // The global zone still sees everything, and .kstat whole.
    assert!(read(m.path(".kstat")).contains("caps:4:"));
}

#[test]
fn a_non_empty_or_stale_mount_point_is_refused() {
    need_root();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("x"), b"x").unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(std::sync::Arc::new(snapshot(1, vec![global()])));
    let e = zonefs::mount(
        d.path(),
        rx.clone(),
        std::sync::Arc::new(zonefs::NoHolds),
        Default::default(),
    )
    .err()
    .expect("refused");
    assert!(matches!(e, zonefs::MountError::NotEmpty(_)), "{e}");

    // A stale mount: a FUSE mount whose server fd is closed.
    let stale = tempfile::tempdir().unwrap();
    let fuse = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .unwrap();
    let opts = format!(
        "fd={},rootmode=40000,user_id=0,group_id=0",
        std::os::fd::AsRawFd::as_raw_fd(&fuse)
    );
    nix::mount::mount(
        Some("zonefs"),
        stale.path(),
        Some("fuse"),
        nix::mount::MsFlags::empty(),
        Some(opts.as_str()),
    )
    .unwrap();
    drop(fuse);
    struct Lazy(PathBuf);
    impl Drop for Lazy {
        fn drop(&mut self) {
            let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
        }
    }
    let _guard = Lazy(stale.path().to_path_buf());
    let e = zonefs::mount(
        stale.path(),
        rx,
        std::sync::Arc::new(zonefs::NoHolds),
        Default::default(),
    )
    .err()
    .expect("refused");
    let msg = e.to_string();
    assert!(matches!(e, zonefs::MountError::Stale(_)), "{msg}");
    assert!(
        msg.contains(&format!("umount -l {}", stale.path().display())),
        "{msg}"
    );
}

#[test]
fn the_engine_going_away_is_reported_once() {
    need_root();
    let d = tempfile::tempdir().unwrap();
    let (tx, rx) = tokio::sync::watch::channel(std::sync::Arc::new(snapshot(1, vec![global()])));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let opts = zonefs::Options {
        on_source_closed: Some(Box::new(move || {
            let _ = done_tx.send(());
        })),
        ..Default::default()
    };
    let h = zonefs::mount(d.path(), rx, std::sync::Arc::new(zonefs::NoHolds), opts).unwrap();
    assert_eq!(read(d.path().join("global/status")), "running\n");
    drop(tx);
    done_rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("on_source_closed was called");
    // The last tree is still served until the owner unmounts.
    assert_eq!(read(d.path().join("global/status")), "running\n");
    h.unmount().unwrap();
    assert!(!d.path().join("global").exists());
}

#[test]
fn unmounting_with_a_file_open_detaches_and_the_file_still_reads() {
    need_root();
    let d = tempfile::tempdir().unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(std::sync::Arc::new(snapshot(1, vec![global()])));
    let h = zonefs::mount(
        d.path(),
        rx,
        std::sync::Arc::new(zonefs::NoHolds),
        Default::default(),
    )
    .unwrap();
    let mut f = std::fs::File::open(d.path().join("global/kstat/all")).unwrap();
    let t0 = std::time::Instant::now();
    h.unmount().unwrap();
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(2),
        "unmount did not wait for the reader"
    );
    assert!(!d.path().join("global").exists(), "the mount point is free");
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    assert!(
        s.starts_with("caps:0:lockedmem_zone_0:class\tzone_caps\n"),
        "{s}"
    );
}
