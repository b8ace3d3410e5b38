//! # Durable state
//!
//! The state directory (`/var/lib/zones` by default) records every live
//! zone, so that an engine that was killed — `kill -9` at any moment — can
//! be followed by one that re-adopts every zone with the same id, uniqid,
//! status and init pid.
//!
//! ```text
//! STATE_DIR/
//!   lock                 flock(2)ed by the one engine that owns the directory
//!   engine.json          { "next_uniqid": N, "boot_id": "…" }
//!   zones/<uniqid>.json  one ZoneRecord per live zone
//! ```
//!
//! Every write is atomic: the new content goes to a temporary file in the
//! same directory and is renamed over the old name. A reader therefore sees
//! the old record or the new one, never a mix, whatever moment the writer
//! died at. A zone's file is removed when the zone is dead.
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
//! fsync cost a zone cycle ~0.3 ms of its ~1 ms), and instead `engine.json`
//! carries the kernel's boot id: records found under another boot id
//! belong to zones that ended with that boot, and are cleared — even torn
//! ones, as a crash of the machine may leave unsynced files.
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
use std::os::fd::AsRawFd;
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
        // SAFETY: flock on a descriptor we own.
        let r = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r != 0 {
            let err = io::Error::last_os_error();
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
        lock.set_len(0)?;
        writeln!(lock, "{}", std::process::id())?;
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

    fn engine_record(&self) -> io::Result<Option<EngineRecord>> {
        let path = self.dir.join("engine.json");
        match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| bad(&path, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Were the records written during an earlier boot?
    fn records_of_earlier_boot(&self) -> bool {
        // A torn engine.json can only come from a crash of the machine.
        let saved = match self.engine_record() {
            Ok(r) => r.and_then(|r| r.boot_id),
            Err(_) => return self.boot_id.is_some(),
        };
        matches!((&saved, &self.boot_id), (Some(a), Some(b)) if a != b)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The uniqid the next zone gets (1 on a new directory). Uniqids keep
    /// growing across boots; an `engine.json` torn by a crash of the
    /// machine starts them again at 1 (illumos promises uniqueness within
    /// one boot only).
    pub fn next_uniqid(&self) -> io::Result<u64> {
        match self.engine_record() {
            Ok(r) => Ok(r.map_or(1, |r| r.next_uniqid.max(1))),
            Err(e) if self.records_of_earlier_boot() => {
                tracing::warn!("{e}: left by a crash of the machine; uniqids start again at 1");
                Ok(1)
            }
            Err(e) => Err(e),
        }
    }

    pub fn save_next_uniqid(&self, next: u64) -> io::Result<()> {
        let b = serde_json::to_vec(&EngineRecord {
            next_uniqid: next,
            boot_id: self.boot_id.clone(),
        })?;
        write_atomic(&self.dir.join("engine.json"), &b)
    }

    fn zone_path(&self, uniqid: u64) -> PathBuf {
        self.dir.join("zones").join(format!("{uniqid}.json"))
    }

    pub fn save_zone(&self, rec: &ZoneRecord) -> io::Result<()> {
        let b = serde_json::to_vec_pretty(rec)?;
        write_atomic(&self.zone_path(rec.uniqid), &b)
    }

    pub fn remove_zone(&self, uniqid: u64) -> io::Result<()> {
        match fs::remove_file(self.zone_path(uniqid)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every saved zone, by uniqid. Leftover temporary files of a writer
    /// that died are removed; a record that cannot be read is an error
    /// naming its file. Records of an earlier boot are removed, and the
    /// directory then stamped with this boot (so that the zones recorded
    /// from now on are not taken for the earlier boot's).
    pub fn load_zones(&self) -> io::Result<Vec<ZoneRecord>> {
        let zdir = self.dir.join("zones");
        let earlier = self.records_of_earlier_boot();
        let mut out = Vec::new();
        let mut cleared = 0;
        for ent in fs::read_dir(&zdir).map_err(|e| at(&zdir, e))? {
            let path = ent.map_err(|e| at(&zdir, e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if earlier {
                cleared += usize::from(name.ends_with(".json"));
                let _ = fs::remove_file(&path);
                continue;
            }
            if name.starts_with(".tmp-") {
                let _ = fs::remove_file(&path);
                continue;
            }
            if !name.ends_with(".json") {
                continue;
            }
            let b = fs::read(&path).map_err(|e| at(&path, e))?;
            out.push(serde_json::from_slice(&b).map_err(|e| bad(&path, e))?);
        }
        if earlier {
            tracing::info!(
                "{}: {cleared} zone record(s) of an earlier boot cleared (their zones ended with it)",
                self.dir.display()
            );
            self.save_next_uniqid(self.next_uniqid()?)?;
        }
        out.sort_by_key(|r: &ZoneRecord| r.uniqid);
        Ok(out)
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
/// see the module's comment).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
        std::process::id()
    ));
    {
        let mut f = File::create(&tmp)?;
        if let Err(e) = f.write_all(bytes) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    }
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
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
        }
    }

    #[test]
    fn records_round_trip_and_removed_ones_stay_gone() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        s.save_zone(&rec(1)).unwrap();
        s.save_zone(&rec(2)).unwrap();
        s.remove_zone(1).unwrap();
        assert_eq!(s.load_zones().unwrap(), vec![rec(2)]);
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
        assert_eq!(s.load_zones().unwrap(), vec![rec(1)]);
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
        assert_eq!(s.load_zones().unwrap(), vec![rec(1)]);
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
        assert_eq!(s.load_zones().unwrap(), vec![]);
        assert_eq!(fs::read_dir(d.path().join("zones")).unwrap().count(), 0);
        // Uniqids keep growing; the directory now belongs to boot b.
        assert_eq!(s.next_uniqid().unwrap(), 5);
        s.save_zone(&rec(5)).unwrap();
        drop(s);
        let s = Store::open(d.path()).unwrap().with_boot_id("boot-b");
        assert_eq!(s.load_zones().unwrap(), vec![rec(5)]);
    }

    #[test]
    fn a_torn_engine_record_is_taken_for_a_crash_of_the_machine() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        fs::write(d.path().join("engine.json"), b"{ \"next_").unwrap();
        fs::write(d.path().join("zones/4.json"), b"").unwrap();
        assert_eq!(s.next_uniqid().unwrap(), 1);
        assert_eq!(s.load_zones().unwrap(), vec![]);
        assert_eq!(s.next_uniqid().unwrap(), 1);
    }

    #[test]
    fn an_engine_record_of_an_older_engine_without_a_boot_id_is_trusted() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        s.save_zone(&rec(1)).unwrap();
        fs::write(d.path().join("engine.json"), br#"{"next_uniqid":7}"#).unwrap();
        assert_eq!(s.load_zones().unwrap(), vec![rec(1)]);
        assert_eq!(s.next_uniqid().unwrap(), 7);
    }

    #[test]
    fn a_corrupt_record_is_an_error_naming_its_file() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        fs::write(d.path().join("zones/7.json"), b"not json").unwrap();
        let err = s.load_zones().unwrap_err();
        assert!(err.to_string().contains("zones/7.json"), "{err}");
    }
}
