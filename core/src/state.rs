//! # Durable state
//!
//! The state directory (`/var/lib/zones` by default) records every live
//! zone, so that an engine that was killed — `kill -9` at any instruction —
//! can be followed by one that re-adopts every zone with the same id,
//! uniqid, status and init pid, and finishes every zone that was half made
//! or half gone, leaking nothing.
//!
//! ```text
//! STATE_DIR/
//!   lock                   flock(2)ed by the one engine that owns the directory
//!   engine.json            { "next_uniqid": N, "boot_id": "…" }
//!   zones/<uniqid>.json    one ZoneRecord per live zone (with its boot id)
//!   zones/<uniqid>.json.damaged   a record that could not be read, kept aside
//!   run/<id>-<uniqid>.sock        zsched's control socket (the runtime's)
//! ```
//!
//! Every write is atomic: the new content goes to a temporary file in the
//! same directory and is renamed over the old name. A reader therefore sees
//! the old record or the new one, never a mix, whatever moment the writer
//! died at. A zone's file is removed when the zone is dead.
//!
//! ## The crash protocol: intent first, or a predictable name
//!
//! Every side effect the engine has on the kernel is covered, at every
//! instruction, by one of two rules, so that a restart finds it:
//!
//! 1. *Intent recorded before the side effect*: the record that says what
//!    is about to happen is on disk before it happens, and the step is
//!    idempotent when redone or undone from that record.
//! 2. *Side effects found by their predictable names*: what the runtime
//!    makes before the engine knows its handle carries the zone's uniqid in
//!    its name — the cgroup `<name>.<uniqid>` in each hierarchy under the
//!    cgroup root, the control socket `run/<id>-<uniqid>.sock` — so a
//!    restart finds it with no record at all.
//!
//! | window (killed between …) | on disk after | what the restart does |
//! |---|---|---|
//! | create: uniqid taken … engine.json written | nothing new | nothing was made; the uniqid is free again (no zone ever had it) |
//! | create: engine.json … `initialized` record | uniqid spent | nothing was made |
//! | create: `initialized` record … runtime ready starts / runs / returns | record without handle | cgroups and zsched found by name (rule 2), killed and removed; record removed: the zone is cleanly gone |
//! | create: ready returned … `ready` record with handle | record without handle | the same: a zone whose creation never returned is gone, nothing leaks |
//! | boot: `booting` record (rule 1, with the boot time) … runtime boot … `running` record | `booting` + handle | zsched asked: an init or a user process runs → `running`; none → finished and removed |
//! | halt/shutdown: `shutting_down` record (rule 1) … `empty` … `down` | `shutting_down` | re-adopted and finished (halt again: each runtime step is idempotent) |
//! | destroy: (`dying`) … runtime destroy … record removed | `shutting_down` (`dying` when not reached through it) | finished; a zsched that is already gone is cleaned by its handle's names |
//! | any write | old file or new, never a mix | — (rename) |
//!
//! A status is written only where a restart would act on it differently
//! (one write per transition that matters, no more: each is a temporary
//! file and a rename on every zone cycle). So the way down writes its
//! first step alone — empty, down and dying are finished exactly as
//! shutting_down is — and a boot whose zone a restart finishes when
//! nothing runs in it either way (init not `persist`ent, or not
//! restarted) stays recorded `booting`: the restart derives `running`
//! from the init or user process it finds. The init pid is never written
//! for its own sake: a restart takes it from the kernel.
//!
//! Beside the records, the kernel is read at every start ([`crate::runtime::Runtime::traces`]):
//! a control socket or a cgroup with a uniqid no record names belongs to a
//! zone whose record was lost (damaged, or removed by hand). A live zsched
//! behind it is asked for its parameters and its zone re-adopted; what is
//! dead is removed.
//!
//! ## Damage
//!
//! * An `engine.json` that is empty, garbled or torn never clears the
//!   records: it is named in a warning, each record is judged by its own
//!   boot id, and the next uniqid is recovered as the highest of what the
//!   records, the damaged files' names and the kernel's names carry, plus
//!   one — so a uniqid is never handed out again while a zone that had it
//!   lives.
//! * One record that cannot be read is renamed `<uniqid>.json.damaged`,
//!   named in a warning, and its zone recovered from the kernel as above;
//!   the other records are adopted as usual. The kept file is removed with
//!   the zone.
//! * A write that fails (ENOSPC, EROFS, EIO) names the file, and fails
//!   the operation that needed it, which undoes what it did (a create is
//!   unmade, a boot is not started or is halted): nothing runs that a
//!   later engine would not know of. Writes on the way down (halt,
//!   destroy) only warn: going down is what a later engine does anyway.
//!
//! ## Crash points (tests only)
//!
//! The crash test kills the engine at each step named in the table above
//! by an injected crash point, not by timing: [`crash_point`] sends the
//! process SIGKILL when `ZONES_CRASH_AT` names the step (`STEP`, or
//! `STEP@N` for its Nth pass). Only builds with debug assertions (the
//! test builds) read the variable; in a release build [`crash_point`] is
//! empty, so no environment can crash a production engine.
//!
//! ## Why nothing is fsync'ed
//!
//! The records describe the running system — zsched pids, cgroups, the
//! status of zones that are alive — not configuration (that is jail.conf).
//! What they must survive is the death of the engine, and a process that
//! dies leaves its completed writes in the page cache, where the next
//! engine reads them: rename(2) is atomic for every later reader on the
//! same boot. What fsync adds is survival of a power loss, and a power loss
//! ends every zone the records describe. So writes are not synced (each
//! fsync cost a zone cycle ~0.3 ms of its ~1 ms), and instead each record
//! and `engine.json` carry the kernel's boot id: records found under
//! another boot id belong to zones that ended with that boot, and are
//! cleared — even torn ones, as a crash of the machine may leave unsynced
//! files.
//!
//! The lock is an exclusive, non-blocking flock on `STATE_DIR/lock`, held
//! for the engine's life (the kernel drops it when the process dies, so a
//! killed engine never leaves a stale lock). A second engine on the same
//! directory is refused with a message that says who holds it.

use crate::param::Params;
use crate::runtime::Handle;
use crate::zone::{Status, ZoneId, ZoneName};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// What is saved of one zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneRecord {
    pub id: ZoneId,
    pub name: ZoneName,
    pub uniqid: u64,
    pub status: Status,
    pub params: Params,
    pub parent: ZoneId,
    pub handle: Option<Handle>,
    pub init_pid: u32,
    pub boot_time: u64,
    pub crtime: u64,
    /// Saved counter state (load averages) to resume after a restart.
    #[serde(default)]
    pub kstat_state: Option<serde_json::Value>,
    /// The boot the record was written in (stamped by [`Store::save_zone`];
    /// absent in records of older engines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct EngineRecord {
    next_uniqid: u64,
    /// The boot the zone records belong to (absent in records of older
    /// engines: those are trusted and adopted as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    boot_id: Option<String>,
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`), if the kernel has one.
pub fn boot_id() -> Option<String> {
    let id = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(id.trim().to_owned()).filter(|s| !s.is_empty())
}

/// An owned state directory.
pub struct Store {
    dir: PathBuf,
    boot_id: Option<String>,
    /// Held open: the flock lives as long as this descriptor.
    _lock: File,
}

impl Store {
    /// Open (creating it if needed) and lock a state directory.
    pub fn open(dir: &Path) -> io::Result<Store> {
        fs::create_dir_all(dir.join("zones"))?;
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("lock"))?;
        // flock(2), exclusive, without waiting: the lock goes with the
        // descriptor, so a dead engine's lock is gone with it.
        if let Err(e) = lock.try_lock() {
            let err = io::Error::from(e);
            let mut holder = String::new();
            let _ = lock.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(io::Error::new(
                err.kind(),
                format!(
                    "{}: state directory is owned by another engine{}",
                    dir.display(),
                    if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {holder})")
                    }
                ),
            ));
        }
        // Who holds it, for the message above: informative only, so a
        // full or read-only file system does not keep the engine (and
        // the zones it must re-adopt) from starting.
        if let Err(e) = lock
            .set_len(0)
            .and_then(|()| writeln!(lock, "{}", std::process::id()))
        {
            tracing::warn!("{}: {e}", dir.join("lock").display());
        }
        Ok(Store {
            dir: dir.to_path_buf(),
            boot_id: boot_id(),
            _lock: lock,
        })
    }

    /// A store that takes `boot_id` as this boot's (tests of a reboot).
    #[cfg(test)]
    fn with_boot_id(mut self, id: &str) -> Store {
        self.boot_id = Some(id.to_owned());
        self
    }

    fn engine_path(&self) -> PathBuf {
        self.dir.join("engine.json")
    }

    fn engine_record(&self) -> io::Result<Option<EngineRecord>> {
        let path = self.engine_path();
        match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| bad(&path, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(at(&path, e)),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The uniqid the next zone gets, as `engine.json` says (1 on a new
    /// directory). An unreadable `engine.json` is an error naming it; the
    /// engine then recovers the number from the records and the kernel
    /// ([`Store::load`]'s `next_uniqid`).
    pub fn next_uniqid(&self) -> io::Result<u64> {
        Ok(self.engine_record()?.map_or(1, |r| r.next_uniqid.max(1)))
    }

    /// Record the next uniqid (and this boot). The error names the file.
    pub fn save_next_uniqid(&self, next: u64) -> io::Result<()> {
        let b = serde_json::to_vec(&EngineRecord {
            next_uniqid: next,
            boot_id: self.boot_id.clone(),
        })?;
        write_atomic(&self.engine_path(), &b)
    }

    fn zone_path(&self, uniqid: u64) -> PathBuf {
        self.dir.join("zones").join(format!("{uniqid}.json"))
    }

    /// Write a zone's record, stamped with this boot. The error names the
    /// file.
    pub fn save_zone(&self, rec: &ZoneRecord) -> io::Result<()> {
        let mut rec = rec.clone();
        rec.boot_id = self.boot_id.clone();
        let b = serde_json::to_vec_pretty(&rec)?;
        write_atomic(&self.zone_path(rec.uniqid), &b)
    }

    /// Remove a zone's record (and a damaged copy kept aside for it).
    pub fn remove_zone(&self, uniqid: u64) -> io::Result<()> {
        let path = self.zone_path(uniqid);
        let mut damaged = path.clone().into_os_string();
        damaged.push(".damaged");
        let _ = fs::remove_file(PathBuf::from(damaged));
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(at(&path, e)),
        }
    }

    /// Every saved zone, by uniqid (see [`Store::load`]); an error only
    /// when the directory cannot be read at all.
    pub fn load_zones(&self) -> io::Result<Vec<ZoneRecord>> {
        Ok(self.load()?.zones)
    }

    /// Read the state directory, recovering what can be recovered
    /// (module comment, "Damage"):
    ///
    /// * leftover temporary files of a writer that died are removed;
    /// * records of an earlier boot are removed (their zones ended with
    ///   it), torn ones too when `engine.json` says so;
    /// * a record that cannot be read is renamed `NAME.damaged` and named
    ///   in [`Loaded::damaged`]; the others are returned;
    /// * an unreadable `engine.json` is named in [`Loaded::damaged`] and
    ///   clears nothing;
    /// * [`Loaded::next_uniqid`] is above every uniqid seen (engine.json,
    ///   records, damaged files' names).
    ///
    /// When records of an earlier boot were cleared, the directory is
    /// stamped with this boot (so that the zones recorded from now on are
    /// not taken for the earlier boot's).
    pub fn load(&self) -> io::Result<Loaded> {
        let zdir = self.dir.join("zones");
        let mut out = Loaded {
            next_uniqid: 1,
            ..Loaded::default()
        };
        // What engine.json says of the boot the records belong to: Some(b)
        // when it is readable and names one.
        let engine_boot = match self.engine_record() {
            Ok(r) => {
                out.next_uniqid = r.as_ref().map_or(1, |r| r.next_uniqid.max(1));
                r.and_then(|r| r.boot_id)
            }
            Err(e) => {
                out.damaged.push(format!(
                    "{e}; the records are judged one by one and the next uniqid is recovered from them and the kernel"
                ));
                None
            }
        };
        let other_boot =
            |b: &Option<String>| matches!((b, &self.boot_id), (Some(a), Some(b)) if a != b);
        let all_earlier = other_boot(&engine_boot);
        let mut cleared = 0;
        for ent in fs::read_dir(&zdir).map_err(|e| at(&zdir, e))? {
            let path = ent.map_err(|e| at(&zdir, e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with(".tmp-") {
                let _ = fs::remove_file(&path);
                continue;
            }
            let stem = name
                .strip_suffix(".json")
                .or_else(|| name.strip_suffix(".json.damaged"));
            let Some(uniqid) = stem.and_then(|s| s.parse::<u64>().ok()) else {
                continue;
            };
            if name.ends_with(".damaged") {
                if all_earlier {
                    let _ = fs::remove_file(&path);
                } else {
                    out.next_uniqid = out.next_uniqid.max(uniqid + 1);
                    out.damaged_uniqids.push(uniqid);
                }
                continue;
            }
            let parsed = fs::read(&path)
                .map_err(|e| at(&path, e))
                .and_then(|b| serde_json::from_slice::<ZoneRecord>(&b).map_err(|e| bad(&path, e)));
            match parsed {
                Ok(r) if other_boot(&r.boot_id) || (r.boot_id.is_none() && all_earlier) => {
                    cleared += 1;
                    let _ = fs::remove_file(&path);
                }
                Ok(r) => {
                    out.next_uniqid = out.next_uniqid.max(r.uniqid + 1);
                    out.zones.push(r);
                }
                // A crash of the machine may leave unsynced records torn.
                Err(_) if all_earlier => {
                    cleared += 1;
                    let _ = fs::remove_file(&path);
                }
                Err(e) => {
                    out.next_uniqid = out.next_uniqid.max(uniqid + 1);
                    out.damaged_uniqids.push(uniqid);
                    let mut aside = path.clone().into_os_string();
                    aside.push(".damaged");
                    let aside = PathBuf::from(aside);
                    let kept = match fs::rename(&path, &aside) {
                        Ok(()) => format!("kept as {}", aside.display()),
                        Err(re) => format!("could not be moved aside: {}", at(&aside, re)),
                    };
                    out.damaged.push(format!(
                        "{e}; {kept}; its zone is recovered from the kernel if it lives"
                    ));
                }
            }
        }
        if all_earlier {
            tracing::info!(
                "{}: {cleared} zone record(s) of an earlier boot cleared (their zones ended with it)",
                self.dir.display()
            );
            self.save_next_uniqid(out.next_uniqid)?;
        } else if cleared > 0 {
            tracing::info!(
                "{}: {cleared} zone record(s) of an earlier boot cleared",
                zdir.display()
            );
        }
        out.zones.sort_by_key(|r: &ZoneRecord| r.uniqid);
        Ok(out)
    }
}

/// What [`Store::load`] found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The readable records of this boot, by uniqid.
    pub zones: Vec<ZoneRecord>,
    /// One message per file that could not be read, naming it.
    pub damaged: Vec<String>,
    /// The uniqids of the damaged records.
    pub damaged_uniqids: Vec<u64>,
    /// Above every uniqid seen in the state directory.
    pub next_uniqid: u64,
}

/// Kill this process (SIGKILL) when `ZONES_CRASH_AT` names `step` (module
/// comment, "Crash points"): `STEP` at its first pass, `STEP@N` at its
/// Nth. Read only by builds with debug assertions; a release build
/// compiles this to nothing.
#[inline]
pub fn crash_point(step: &str) {
    #[cfg(debug_assertions)]
    crash::at(step);
    #[cfg(not(debug_assertions))]
    let _ = step;
}

#[cfg(debug_assertions)]
mod crash {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    static WANT: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static PASSES: AtomicU64 = AtomicU64::new(0);

    pub fn at(step: &str) {
        let want = WANT.get_or_init(|| {
            let v = std::env::var("ZONES_CRASH_AT").ok()?;
            let (s, n) = match v.split_once('@') {
                Some((s, n)) => (s.to_string(), n.parse().unwrap_or(1)),
                None => (v, 1),
            };
            Some((s, n.max(1)))
        });
        if let Some((s, n)) = want
            && s == step
            && PASSES.fetch_add(1, Ordering::SeqCst) + 1 == *n
        {
            eprintln!("crash point {step}: killing this process (ZONES_CRASH_AT)");
            // SIGKILL, as an outside killer would send it (no unwinding, no
            // destructors); kill(1) sends it, this crate makes no system
            // calls of its own. Should kill(1) be missing, abort is as
            // sudden, though it ends the process by another signal.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &std::process::id().to_string()])
                .status();
            std::thread::sleep(std::time::Duration::from_secs(5));
            std::process::abort();
        }
    }
}

/// An I/O error that names its file (`FILE: Is a directory`).
fn at(path: &Path, e: io::Error) -> io::Error {
    let text = e.to_string();
    let text = text
        .split(" (os error ")
        .next()
        .unwrap_or(&text)
        .to_string();
    io::Error::new(e.kind(), format!("{}: {text}", path.display()))
}

fn bad(path: &Path, e: serde_json::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {e}", path.display()),
    )
}

/// Write a temporary beside `path` and rename it over `path` (not synced:
/// see the module's comment). A failure (ENOSPC, EROFS, EIO) leaves the
/// old file as it was and no temporary, and its error names `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
        std::process::id()
    ));
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.flush()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(at(path, e));
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        at(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(uniqid: u64) -> ZoneRecord {
        ZoneRecord {
            id: ZoneId(uniqid as u32),
            name: ZoneName::new(&format!("z{uniqid}")).unwrap(),
            uniqid,
            status: Status::Running,
            params: Params::new(),
            parent: ZoneId::GLOBAL,
            handle: Some(Handle {
                zsched_pid: 42,
                ..Default::default()
            }),
            init_pid: 43,
            boot_time: 1,
            crtime: 2,
            kstat_state: None,
            boot_id: None,
        }
    }

    /// Records as saved, less the boot id the store stamps on them.
    fn plain(v: Vec<ZoneRecord>) -> Vec<ZoneRecord> {
        v.into_iter()
            .map(|mut r| {
                r.boot_id = None;
                r
            })
            .collect()
    }

    #[test]
    fn records_round_trip_and_removed_ones_stay_gone() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        s.save_zone(&rec(1)).unwrap();
        s.save_zone(&rec(2)).unwrap();
        s.remove_zone(1).unwrap();
        assert_eq!(plain(s.load_zones().unwrap()), vec![rec(2)]);
        assert_eq!(s.next_uniqid().unwrap(), 1);
        s.save_next_uniqid(9).unwrap();
        assert_eq!(s.next_uniqid().unwrap(), 9);
    }

    #[test]
    fn a_second_engine_on_the_same_directory_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let _first = Store::open(d.path()).unwrap();
        let err = Store::open(d.path()).err().expect("locked");
        assert!(err.to_string().contains("owned by another engine"), "{err}");
        assert!(err.to_string().contains(&std::process::id().to_string()));
    }

    #[test]
    fn the_lock_is_released_when_the_owner_goes() {
        let d = tempfile::tempdir().unwrap();
        drop(Store::open(d.path()).unwrap());
        assert!(Store::open(d.path()).is_ok());
    }

    #[test]
    fn a_torn_write_leaves_the_old_record_and_its_temporary_is_cleared() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        s.save_zone(&rec(1)).unwrap();
        // A writer that died after writing its temporary, before the rename.
        fs::write(d.path().join("zones/.tmp-1.json-999"), b"{ half").unwrap();
        assert_eq!(plain(s.load_zones().unwrap()), vec![rec(1)]);
        assert!(!d.path().join("zones/.tmp-1.json-999").exists());
    }

    #[test]
    fn records_of_this_boot_are_kept_and_the_directory_is_stamped_with_it() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        s.save_zone(&rec(1)).unwrap();
        s.save_next_uniqid(2).unwrap();
        let saved: EngineRecord =
            serde_json::from_slice(&fs::read(d.path().join("engine.json")).unwrap()).unwrap();
        assert_eq!(saved.boot_id, boot_id());
        assert!(saved.boot_id.is_some(), "this kernel has a boot id");
        drop(s);
        let s = Store::open(d.path()).unwrap();
        assert_eq!(plain(s.load_zones().unwrap()), vec![rec(1)]);
        assert_eq!(s.next_uniqid().unwrap(), 2);
    }

    #[test]
    fn records_of_an_earlier_boot_are_cleared_even_torn_ones() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap().with_boot_id("boot-a");
        s.save_zone(&rec(1)).unwrap();
        s.save_next_uniqid(5).unwrap();
        // A crash of the machine may leave unsynced files empty or torn.
        fs::write(d.path().join("zones/2.json"), b"").unwrap();
        fs::write(d.path().join("zones/3.json"), b"{ \"id\": ").unwrap();
        drop(s);
        let s = Store::open(d.path()).unwrap().with_boot_id("boot-b");
        assert_eq!(plain(s.load_zones().unwrap()), vec![]);
        assert_eq!(fs::read_dir(d.path().join("zones")).unwrap().count(), 0);
        // Uniqids keep growing; the directory now belongs to boot b.
        assert_eq!(s.next_uniqid().unwrap(), 5);
        s.save_zone(&rec(5)).unwrap();
        drop(s);
        let s = Store::open(d.path()).unwrap().with_boot_id("boot-b");
        assert_eq!(plain(s.load_zones().unwrap()), vec![rec(5)]);
    }

    #[test]
    fn a_damaged_engine_record_clears_nothing_and_is_named() {
        for junk in [&b""[..], b"{ \"next_", b"\x00\x01garbage"] {
            let d = tempfile::tempdir().unwrap();
            let s = Store::open(d.path()).unwrap();
            s.save_next_uniqid(4).unwrap();
            s.save_zone(&rec(3)).unwrap();
            fs::write(d.path().join("engine.json"), junk).unwrap();
            assert!(s.next_uniqid().is_err());
            let l = s.load().unwrap();
            assert_eq!(plain(l.zones), vec![rec(3)]);
            assert_eq!(l.damaged.len(), 1, "{:?}", l.damaged);
            assert!(l.damaged[0].contains("engine.json"), "{:?}", l.damaged);
            // Recovered from the record: never 1 again while zone 3 lives.
            assert_eq!(l.next_uniqid, 4);
        }
    }

    #[test]
    fn a_record_of_another_boot_is_cleared_even_when_engine_json_is_damaged() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap().with_boot_id("boot-a");
        s.save_zone(&rec(1)).unwrap();
        drop(s);
        let s = Store::open(d.path()).unwrap().with_boot_id("boot-b");
        s.save_zone(&rec(2)).unwrap();
        fs::write(d.path().join("engine.json"), b"{").unwrap();
        let l = s.load().unwrap();
        assert_eq!(plain(l.zones), vec![rec(2)]);
        assert!(!d.path().join("zones/1.json").exists());
    }

    #[test]
    fn a_failed_write_names_the_file_and_leaves_the_old_record() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        s.save_zone(&rec(1)).unwrap();
        // A directory where the temporary goes: the write fails.
        let tmp = d
            .path()
            .join(format!("zones/.tmp-1.json-{}", std::process::id()));
        fs::create_dir(&tmp).unwrap();
        let err = s.save_zone(&rec(1)).unwrap_err();
        assert!(err.to_string().contains("zones/1.json"), "{err}");
        assert!(!err.to_string().contains("os error"), "{err}");
        fs::remove_dir(&tmp).unwrap();
        assert_eq!(plain(s.load_zones().unwrap()), vec![rec(1)]);
    }

    #[test]
    fn an_engine_record_of_an_older_engine_without_a_boot_id_is_trusted() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        s.save_zone(&rec(1)).unwrap();
        fs::write(d.path().join("engine.json"), br#"{"next_uniqid":7}"#).unwrap();
        assert_eq!(plain(s.load_zones().unwrap()), vec![rec(1)]);
        assert_eq!(s.next_uniqid().unwrap(), 7);
    }

    #[test]
    fn a_corrupt_record_is_kept_aside_named_and_blocks_no_other() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        s.save_zone(&rec(2)).unwrap();
        s.save_next_uniqid(3).unwrap();
        fs::write(d.path().join("zones/7.json"), b"not json").unwrap();
        let l = s.load().unwrap();
        assert_eq!(plain(l.zones), vec![rec(2)]);
        assert_eq!(l.damaged.len(), 1);
        assert!(l.damaged[0].contains("zones/7.json"), "{:?}", l.damaged);
        assert!(d.path().join("zones/7.json.damaged").exists());
        assert_eq!(l.next_uniqid, 8);
        // Still counted on the next load, removed with its zone.
        assert_eq!(s.load().unwrap().next_uniqid, 8);
        s.remove_zone(7).unwrap();
        assert!(!d.path().join("zones/7.json.damaged").exists());
    }
}
