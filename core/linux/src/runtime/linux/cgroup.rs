//! # cgroups of a zone
//!
//! A zone's processes live in one cgroup per hierarchy the runtime uses;
//! the resource controls of config.md are files of those cgroups.
//!
//! ## Layouts
//!
//! [`detect`] tells the three layouts apart with statfs(2) on
//! /sys/fs/cgroup: CGROUP2_SUPER_MAGIC is the unified (v2) layout; TMPFS_MAGIC
//! with a cgroup2 file system at /sys/fs/cgroup/unified is *hybrid*; TMPFS
//! without it is pure v1. On v1 and hybrid the controllers are v1 ones (one
//! hierarchy per mounted controller set, found in /proc/self/mountinfo); on
//! hybrid the zone also gets a cgroup in the cgroup2 mount, because that is
//! where cpu.stat and the pressure files are read.
//!
//! This is the one detection of the layout: [`hierarchies`] picks the
//! mounts by it, and the sampler learns which hierarchy (and so which
//! version and controllers) each of a zone's directories is in from
//! [`host_hierarchies`] and [`hierarchy_of`], never by probing files.
//!
//! ## Where a zone's cgroup is
//!
//! The runtime is given a cgroup root. An absolute root (`/zones`) is taken
//! from the top of each hierarchy; any other is beneath the cgroup the
//! engine itself runs in, per hierarchy (/proc/self/cgroup). A zone's
//! directory is `<root>/<last name component>.<uniqid>` (`web.42`): readable,
//! and distinct from a dying zone of the same name. A nested jail's directory
//! is inside its parent's.
//!
//! ## Controls
//!
//! | control | v1 | v2 |
//! |---|---|---|
//! | zone.max-processes, zone.max-lwps | pids.max (the smaller: pids counts tasks) | pids.max |
//! | zone.cpu-shares | cpu.shares (2..=262144) | cpu.weight (1..=10000) |
//! | zone.cpu-cap | cpu.cfs_quota_us = cap × 1000 over cpu.cfs_period_us = 100000 | cpu.max `cap×1000 100000` |
//! | capped-memory.physical | memory.limit_in_bytes | memory.max |
//! | zone.max-swap | memory.memsw.limit_in_bytes | memory.swap.max = max-swap − memory.max |
//!
//! On v1 the devices controller also denies every device but the ones the
//! zone's /dev holds (ruleset 4), so that a process of the zone cannot reach
//! a host disk even if it could make a node for it.
//!
//! On v2 the controllers must be enabled in `cgroup.subtree_control` of every
//! ancestor between the base and the zone; the kernel refuses that (EBUSY)
//! for a cgroup that holds processes, so on v2 a relative root works only
//! when the engine's own cgroup holds no process that is not in a leaf —
//! use an absolute root in a delegated subtree there, or have the daemon
//! move itself into a leaf first ([`move_self_to_leaf`]).
//!
//! Removing ([`remove`]) is one rmdir per hierarchy when the zone's
//! cgroups are empty (the kernel refuses a cgroup that is not); else it
//! kills what is left (v2 cgroup.kill; v1 freezer: freeze, SIGKILL every
//! member, thaw), then rmdirs the deepest first.

use super::err;
use crate::param::Params;
use crate::runtime::RuntimeError;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const CGROUP_FS: &str = "/sys/fs/cgroup";

/// How the host mounts its cgroups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    V1,
    Hybrid,
    V2,
}

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
const TMPFS_MAGIC: i64 = 0x0102_1994;

fn fs_magic(path: &Path) -> io::Result<i64> {
    let st = nix::sys::statfs::statfs(path).map_err(io::Error::from)?;
    Ok(st.filesystem_type().0 as i64)
}

/// Tell v1, hybrid and v2 apart (see the module comment).
pub fn detect() -> io::Result<Layout> {
    let top = fs_magic(Path::new(CGROUP_FS))?;
    if top == CGROUP2_SUPER_MAGIC {
        return Ok(Layout::V2);
    }
    if top == TMPFS_MAGIC {
        let unified = Path::new(CGROUP_FS).join("unified");
        if fs_magic(&unified).ok() == Some(CGROUP2_SUPER_MAGIC) {
            return Ok(Layout::Hybrid);
        }
        return Ok(Layout::V1);
    }
    Err(io::Error::other(format!(
        "{CGROUP_FS}: neither cgroup2 nor tmpfs (magic {top:#x})"
    )))
}

/// One cgroup hierarchy the runtime makes zone cgroups in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hierarchy {
    /// Where it is mounted.
    pub mount: PathBuf,
    /// v1 controllers (empty for cgroup2).
    pub controllers: Vec<String>,
    /// The engine's own cgroup in it (from /proc/self/cgroup).
    pub own: PathBuf,
}

impl Hierarchy {
    pub fn is_v2(&self) -> bool {
        self.controllers.is_empty()
    }
}

/// The v1 controllers a zone gets a cgroup in. cpuset is left out: a
/// cpuset child is unusable until cpus and mems are written.
const V1_CONTROLLERS: &[&str] = &[
    "pids", "memory", "cpu", "cpuacct", "freezer", "devices", "blkio",
];

/// The hierarchies of this host the runtime uses, from the mount table and
/// the cgroup membership given as text (/proc/self/mountinfo and
/// /proc/self/cgroup), so that recorded files can be tested.
pub fn hierarchies_from(mountinfo: &str, self_cgroup: &str) -> Vec<Hierarchy> {
    let mut out = Vec::new();
    for m in crate::mountinfo::parse(mountinfo) {
        let mount = m.mount_point;
        match m.fstype.as_str() {
            "cgroup2" => {
                let own = self_cgroup
                    .lines()
                    .find_map(|l| l.strip_prefix("0::"))
                    .unwrap_or("/");
                out.push(Hierarchy {
                    mount,
                    controllers: vec![],
                    own: PathBuf::from(own),
                });
            }
            "cgroup" => {
                let opts: Vec<&str> = m.super_options.split(',').collect();
                let ctrls: Vec<String> = opts
                    .iter()
                    .filter(|o| V1_CONTROLLERS.contains(o))
                    .map(|s| s.to_string())
                    .collect();
                if ctrls.is_empty() {
                    continue;
                }
                // The /proc/self/cgroup line whose controller list is this one's.
                let own = self_cgroup.lines().find_map(|l| {
                    let mut it = l.splitn(3, ':');
                    let (_, list, path) = (it.next()?, it.next()?, it.next()?);
                    let list: Vec<&str> = list.split(',').collect();
                    ctrls
                        .iter()
                        .all(|c| list.contains(&c.as_str()))
                        .then(|| path.to_string())
                });
                out.push(Hierarchy {
                    mount,
                    controllers: ctrls,
                    own: PathBuf::from(own.unwrap_or_else(|| "/".into())),
                });
            }
            _ => {}
        }
    }
    out
}

/// The hierarchy a cgroup directory is in: the one mounted at the
/// longest prefix of `dir`, or of its real path (a controller's directory
/// may be reached through a link such as /sys/fs/cgroup/cpuacct →
/// cpu,cpuacct).
pub fn hierarchy_of<'a>(hs: &'a [Hierarchy], dir: &Path) -> Option<&'a Hierarchy> {
    let under = |d: &Path| {
        hs.iter()
            .filter(|h| d.starts_with(&h.mount))
            .max_by_key(|h| h.mount.components().count())
    };
    under(dir).or_else(|| under(&fs::canonicalize(dir).ok()?))
}

/// [`hierarchies`] of the running host, read once: the layout the
/// runtime makes zone cgroups in, which the sampler reads them by
/// (`kstat::read::CgroupSet::detect`). Empty (and tried again next time)
/// when it cannot be read.
pub fn host_hierarchies() -> &'static [Hierarchy] {
    static HOST: std::sync::OnceLock<Vec<Hierarchy>> = std::sync::OnceLock::new();
    if let Some(hs) = HOST.get() {
        return hs;
    }
    match hierarchies() {
        Ok(hs) => HOST.get_or_init(|| hs),
        Err(_) => &[],
    }
}

/// The hierarchies of the running host.
pub fn hierarchies() -> Result<Vec<Hierarchy>, RuntimeError> {
    let layout = detect().map_err(|e| err("cgroup", format!("{CGROUP_FS}: {e}"), &e))?;
    let mi = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| err("cgroup", format!("/proc/self/mountinfo: {e}"), &e))?;
    let sc = fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| err("cgroup", format!("/proc/self/cgroup: {e}"), &e))?;
    let all = hierarchies_from(&mi, &sc);
    let v2_at = |p: &'static str| {
        all.iter()
            .filter(move |h| h.is_v2() && h.mount == Path::new(p))
            .cloned()
    };
    let picked: Vec<Hierarchy> = match layout {
        Layout::V2 => v2_at(CGROUP_FS).collect(),
        Layout::Hybrid => all
            .iter()
            .filter(|h| !h.is_v2())
            .cloned()
            .chain(v2_at("/sys/fs/cgroup/unified"))
            .collect(),
        Layout::V1 => all.iter().filter(|h| !h.is_v2()).cloned().collect(),
    };
    if picked.is_empty() {
        return Err(RuntimeError::new(
            "cgroup",
            format!("no usable cgroup hierarchy under {CGROUP_FS} ({layout:?})"),
        ));
    }
    Ok(picked)
}

/// The directory of a zone's cgroup: `<last name component>.<uniqid>`.
pub fn dir_name(name: &str, uniqid: u64) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    format!("{last}.{uniqid}")
}

/// Where a zone's cgroup goes in `h`. `root` is the configured cgroup root
/// (absolute from the top, relative beneath the engine's own cgroup);
/// `parent` is the parent zone's cgroups, for a nested jail.
pub fn zone_dir(h: &Hierarchy, root: &Path, parent: Option<&[PathBuf]>, dir: &str) -> PathBuf {
    if let Some(parent_dirs) = parent
        && let Some(p) = parent_dirs.iter().find(|p| p.starts_with(&h.mount))
    {
        return p.join(dir);
    }
    root_dir(h, root).join(dir)
}

/// The cgroup root `root` in hierarchy `h`: beneath the mount when
/// absolute, else beneath the engine's own cgroup (a relative root).
pub fn root_dir(h: &Hierarchy, root: &Path) -> PathBuf {
    if root.is_absolute() {
        h.mount.join(root.strip_prefix("/").unwrap_or(root))
    } else {
        h.mount
            .join(h.own.strip_prefix("/").unwrap_or(&h.own))
            .join(root)
    }
}

/// The cgroup root `root` in every hierarchy of the running host, where
/// the zones made with that root keep their cgroups.
pub fn root_dirs(root: &Path) -> Result<Vec<PathBuf>, RuntimeError> {
    Ok(hierarchies()?.iter().map(|h| root_dir(h, root)).collect())
}

/// On a v2 host, move this process out of the cgroup it was started in
/// into the leaf `<own cgroup>/<leaf>` (made if missing), so that its own
/// cgroup holds no process and may enable controllers for the zones
/// beneath it (the "no internal processes" rule). For zoned at start on a
/// v2 host with a relative cgroup root (e.g. a systemd unit with
/// `Delegate=yes`); never called on v1 or hybrid hosts, where it is not
/// needed. `base` is the process's own cgroup directory.
pub fn move_self_to_leaf(base: &Path, leaf: &str) -> Result<PathBuf, RuntimeError> {
    let dir = base.join(leaf);
    mkdir(&dir)?;
    write(&dir.join("cgroup.procs"), "0")?;
    Ok(dir)
}

/// The v2 controllers a zone needs, among those `dir` offers.
fn wanted_v2(available: &str) -> Vec<&'static str> {
    ["cpu", "memory", "pids", "io"]
        .into_iter()
        .filter(|c| available.split_whitespace().any(|a| a == *c))
        .collect()
}

/// Make `dir` (and its missing ancestors) in hierarchy `h`; on v2 enable
/// the controllers in every ancestor from `base` down.
pub fn create(h: &Hierarchy, dir: &Path, base: &Path) -> Result<(), RuntimeError> {
    if h.is_v2() {
        // Enable controllers from base down to dir's parent, one level at a time.
        let rel = dir.strip_prefix(base).unwrap_or(dir);
        let mut cur = base.to_path_buf();
        for comp in rel.components() {
            let avail = fs::read_to_string(cur.join("cgroup.controllers")).unwrap_or_default();
            let want = wanted_v2(&avail);
            if !want.is_empty() {
                let line: Vec<String> = want.iter().map(|c| format!("+{c}")).collect();
                write(&cur.join("cgroup.subtree_control"), &line.join(" ")).map_err(|mut e| {
                    if e.errno == Some(libc::EBUSY) {
                        e.message.push_str(
                            " (a cgroup2 cgroup that holds processes cannot enable controllers \
                             for its children: use an absolute cgroup root in a delegated subtree)",
                        );
                    }
                    e
                })?;
            }
            cur.push(comp);
            mkdir(&cur)?;
        }
        if cur != dir {
            mkdir(dir)?;
        }
        Ok(())
    } else {
        fs::create_dir_all(dir)
            .map_err(|e| err("cgroup", format!("mkdir {}: {e}", dir.display()), &e))
    }
}

fn mkdir(p: &Path) -> Result<(), RuntimeError> {
    match fs::create_dir(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(err("cgroup", format!("mkdir {}: {e}", p.display()), &e)),
    }
}

fn write(path: &Path, value: &str) -> Result<(), RuntimeError> {
    fs::write(path, value).map_err(|e| {
        err(
            "cgroup",
            format!("write {value:?} to {}: {e}", path.display()),
            &e,
        )
    })
}

/// One file write a resource control turns into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    pub file: &'static str,
    pub value: String,
    /// The rctl it comes from (for error messages).
    pub rctl: &'static str,
}

fn w(file: &'static str, value: impl ToString, rctl: &'static str) -> Write {
    Write {
        file,
        value: value.to_string(),
        rctl,
    }
}

/// The file writes that apply the resource controls in `params`, for v1
/// (`v2 == false`) or v2. Controls not in `params` are not written.
/// Order matters on v1: memory.limit_in_bytes before memsw (memsw may not
/// be below it); [`apply`] retries the pair the other way when lowering.
pub fn rctl_writes(params: &Params, v2: bool) -> Vec<Write> {
    let mut out = Vec::new();
    let procs = params.int("zone.max-processes");
    let lwps = params.int("zone.max-lwps");
    let pids = match (procs, lwps) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some(n) = pids {
        out.push(w("pids.max", n, "zone.max-processes"));
    }
    if let Some(s) = params.int("zone.cpu-shares") {
        if v2 {
            out.push(w("cpu.weight", s.clamp(1, 10_000), "zone.cpu-shares"));
        } else {
            out.push(w("cpu.shares", s.clamp(2, 262_144), "zone.cpu-shares"));
        }
    }
    if let Some(cap) = params.int("zone.cpu-cap") {
        let quota = cap.saturating_mul(1000);
        if v2 {
            out.push(w("cpu.max", format!("{quota} 100000"), "zone.cpu-cap"));
        } else {
            out.push(w("cpu.cfs_period_us", 100_000, "zone.cpu-cap"));
            out.push(w("cpu.cfs_quota_us", quota, "zone.cpu-cap"));
        }
    }
    let phys = params.int("capped-memory.physical");
    let swap = params.int("zone.max-swap");
    if v2 {
        match (phys, swap) {
            (Some(m), Some(t)) => {
                out.push(w("memory.max", m.min(t), "capped-memory.physical"));
                out.push(w("memory.swap.max", (t - m).max(0), "zone.max-swap"));
            }
            (Some(m), None) => out.push(w("memory.max", m, "capped-memory.physical")),
            (None, Some(t)) => {
                out.push(w("memory.max", t, "zone.max-swap"));
                out.push(w("memory.swap.max", 0, "zone.max-swap"));
            }
            (None, None) => {}
        }
    } else {
        // memsw.limit may not go below memory.limit (EINVAL): without a
        // physical cap, max-swap caps memory as well, as on v2.
        match (phys, swap) {
            (Some(m), Some(t)) => {
                out.push(w(
                    "memory.limit_in_bytes",
                    m.min(t),
                    "capped-memory.physical",
                ));
                out.push(w("memory.memsw.limit_in_bytes", t, "zone.max-swap"));
            }
            (Some(m), None) => out.push(w("memory.limit_in_bytes", m, "capped-memory.physical")),
            (None, Some(t)) => {
                out.push(w("memory.limit_in_bytes", t, "zone.max-swap"));
                out.push(w("memory.memsw.limit_in_bytes", t, "zone.max-swap"));
            }
            (None, None) => {}
        }
    }
    out
}

/// The devices a zone may use on v1 (ruleset 4: null, zero, full, random,
/// urandom, tty, console, ptmx and the pts of its own devpts).
pub const DEVICES_ALLOW: &[&str] = &[
    "c 1:3 rwm",
    "c 1:5 rwm",
    "c 1:7 rwm",
    "c 1:8 rwm",
    "c 1:9 rwm",
    "c 5:0 rwm",
    "c 5:1 rwm",
    "c 5:2 rwm",
    "c 136:* rwm",
];

/// Apply resource controls to a zone's cgroups (`dirs`, one per hierarchy):
/// each file goes to the directory that has it. A control whose file no
/// hierarchy has is an error naming the control.
pub fn apply(dirs: &[PathBuf], params: &Params, v2: bool) -> Result<(), RuntimeError> {
    let writes = rctl_writes(params, v2);
    let mut i = 0;
    while i < writes.len() {
        let wr = &writes[i];
        let Some(dir) = dirs.iter().find(|d| d.join(wr.file).exists()) else {
            return Err(RuntimeError::new(
                "rctl",
                format!(
                    "{}: no cgroup offers {} (controller not available)",
                    wr.rctl, wr.file
                ),
            ));
        };
        if let Err(e) = write(&dir.join(wr.file), &wr.value) {
            // memory.limit_in_bytes above the current memsw limit: write
            // memsw first, then retry.
            let next = writes.get(i + 1);
            if wr.file == "memory.limit_in_bytes"
                && let Some(n) = next.filter(|n| n.file == "memory.memsw.limit_in_bytes")
            {
                write(&dir.join(n.file), &n.value)?;
                write(&dir.join(wr.file), &wr.value)?;
                i += 2;
                continue;
            }
            return Err(RuntimeError {
                step: "rctl".into(),
                message: format!("{}: {}", wr.rctl, e.message),
                errno: e.errno,
            });
        }
        i += 1;
    }
    Ok(())
}

/// Deny every device but ruleset 4 in a v1 devices cgroup.
/// The allow rules go through one descriptor (the kernel takes one rule
/// per write(2)), not one open and close each.
pub fn restrict_devices(dir: &Path) -> Result<(), RuntimeError> {
    write(&dir.join("devices.deny"), "a")?;
    let path = dir.join("devices.allow");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| err("cgroup", format!("open {}: {e}", path.display()), &e))?;
    for rule in DEVICES_ALLOW {
        io::Write::write_all(&mut f, rule.as_bytes()).map_err(|e| {
            err(
                "cgroup",
                format!("write {rule:?} to {}: {e}", path.display()),
                &e,
            )
        })?;
    }
    Ok(())
}

/// The pids of a `cgroup.procs`, `cgroup.threads` or v1 `tasks` file, one
/// a line, appended to `out`: the one parser of these lists (the
/// sampler's reader and [`procs`] both use it).
pub fn parse_pids(text: &str, out: &mut Vec<u32>) {
    out.extend(text.lines().filter_map(|l| l.trim().parse::<u32>().ok()));
}

/// Pids in a cgroup and all its descendants.
///
/// Called several times a zone cycle per hierarchy (shutdown's sweep,
/// the references destroy counts, removal), so it is kept to the system
/// calls it needs: cgroup.procs read whole into one buffer ([`read_small`]:
/// open, read, read, close — no fstat for a size the kernel does not
/// know, no growing reads), and the directory listed only when its link
/// count says it has a child cgroup (a directory's is 2 plus its
/// subdirectories on kernfs, tmpfs and ext4; a file system that keeps
/// no such count, where it is 1, is listed always).
pub fn procs(dir: &Path) -> Vec<u32> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    if let Ok(b) = read_small(&dir.join("cgroup.procs")) {
        parse_pids(&String::from_utf8_lossy(&b), &mut out);
    }
    let children = fs::metadata(dir).map_or(true, |m| m.nlink() != 2);
    if children && let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(procs(&e.path()));
            }
        }
    }
    out
}

/// A small kernel file (procfs, cgroupfs, sysfs: their size is 0 to
/// fstat) read whole: one open, reads into a 4 KiB buffer until EOF, one
/// close — three or four system calls where `fs::read_to_string` makes
/// seven to nine (an fstat, then reads of 32, 32, 64, ... bytes).
pub fn read_small(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = fs::File::open(path)?;
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match f.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    Ok(buf)
}

/// The freezer of a zone's cgroups and the values that freeze and thaw:
/// v1 freezer.state (preferred on hybrid hosts), else v2 cgroup.freeze.
pub fn freezer(dirs: &[PathBuf]) -> Option<(PathBuf, &'static str, &'static str)> {
    if let Some(d) = dirs.iter().find(|d| d.join("freezer.state").exists()) {
        return Some((d.join("freezer.state"), "FROZEN", "THAWED"));
    }
    dirs.iter()
        .find(|d| d.join("cgroup.freeze").exists())
        .map(|d| (d.join("cgroup.freeze"), "1", "0"))
}

/// Kill every process of the zone's cgroups but `except`: cgroup.kill
/// (v2, kernel ≥ 5.14) when there is no exception, else freeze, SIGKILL
/// each, thaw (v1 freezer or v2 cgroup.freeze).
pub fn kill_all(dirs: &[PathBuf], except: Option<u32>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: Vec<u32> = dirs
            .iter()
            .flat_map(|d| procs(d))
            .filter(|p| Some(*p) != except)
            .collect();
        if left.is_empty() || Instant::now() > deadline {
            return;
        }
        if except.is_none()
            && let Some(d) = dirs.iter().find(|d| d.join("cgroup.kill").exists())
        {
            let _ = fs::write(d.join("cgroup.kill"), "1");
        } else if let Some((f, frozen, thawed)) = freezer(dirs) {
            // Frozen, the members cannot fork while we kill them.
            let _ = fs::write(&f, frozen);
            for p in &left {
                // SAFETY: kill takes plain integers.
                unsafe { libc::kill(*p as i32, libc::SIGKILL) };
            }
            let _ = fs::write(&f, thawed);
        } else {
            for p in &left {
                // SAFETY: kill takes plain integers.
                unsafe { libc::kill(*p as i32, libc::SIGKILL) };
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kill what is left and remove the zone's cgroups, children first.
/// Missing directories are not an error.
///
/// The common case — zsched has exited, the zone's cgroups are empty and
/// have no children — is one rmdir per hierarchy: the kernel refuses
/// (EBUSY) a cgroup that still holds a process or a child cgroup, so a
/// cgroup rmdir removes was empty, and only when one refuses are the
/// trees walked, their members killed and the children removed first
/// (what every removal did before: two walks of every tree, ~100 system
/// calls a zone on the hybrid host).
pub fn remove(dirs: &[PathBuf]) -> Result<(), RuntimeError> {
    let mut left = Vec::new();
    for d in dirs {
        match fs::remove_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => left.push(d.clone()),
        }
    }
    if left.is_empty() {
        return Ok(());
    }
    remove_trees(&left)
}

/// [`remove`]'s slow path: kill every member of the trees, then rmdir
/// each tree deepest first.
fn remove_trees(dirs: &[PathBuf]) -> Result<(), RuntimeError> {
    kill_all(dirs, None);
    let mut first_err = None;
    for d in dirs {
        if let Err(e) = rmdir_tree(d)
            && first_err.is_none()
        {
            first_err = Some(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

fn rmdir_tree(dir: &Path) -> Result<(), RuntimeError> {
    if !dir.exists() {
        return Ok(());
    }
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                rmdir_tree(&e.path())?;
            }
        }
    }
    // A killed process leaves its cgroup only once reaped: retry a while.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if Instant::now() < deadline && e.raw_os_error() == Some(libc::EBUSY) => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => {
                return Err(err("cgroup", format!("rmdir {}: {e}", dir.display()), &e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::Value;

    const HYBRID_MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const HYBRID_SELF: &str = "\
9:name=systemd:/
8:pids:/
4:memory:/process_api/abc
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
";

    #[test]
    fn hybrid_hierarchies_skip_cpuset_and_named_ones_and_know_their_own_cgroup() {
        let hs = hierarchies_from(HYBRID_MOUNTINFO, HYBRID_SELF);
        let mounts: Vec<_> = hs.iter().map(|h| h.mount.display().to_string()).collect();
        assert_eq!(
            mounts,
            [
                "/sys/fs/cgroup/cpu",
                "/sys/fs/cgroup/cpuacct",
                "/sys/fs/cgroup/memory",
                "/sys/fs/cgroup/pids",
                "/sys/fs/cgroup/unified"
            ]
        );
        let mem = hs.iter().find(|h| h.controllers == ["memory"]).unwrap();
        assert_eq!(mem.own, Path::new("/process_api/abc"));
        assert!(hs.last().unwrap().is_v2());
    }

    #[test]
    fn a_relative_root_is_beneath_the_engines_cgroup_an_absolute_one_is_not() {
        let hs = hierarchies_from(HYBRID_MOUNTINFO, HYBRID_SELF);
        let mem = hs.iter().find(|h| h.controllers == ["memory"]).unwrap();
        assert_eq!(
            zone_dir(mem, Path::new("zt"), None, "web.4"),
            Path::new("/sys/fs/cgroup/memory/process_api/abc/zt/web.4")
        );
        assert_eq!(
            zone_dir(mem, Path::new("/zones"), None, "web.4"),
            Path::new("/sys/fs/cgroup/memory/zones/web.4")
        );
        let parent = vec![PathBuf::from("/sys/fs/cgroup/memory/zones/a.3")];
        assert_eq!(
            zone_dir(mem, Path::new("/zones"), Some(&parent), "b.5"),
            Path::new("/sys/fs/cgroup/memory/zones/a.3/b.5")
        );
        assert_eq!(dir_name("a.b", 5), "b.5");
    }

    fn params(kv: &[(&str, i64)]) -> Params {
        let mut p = Params::new();
        for (k, v) in kv {
            p.insert(k, Value::Int(*v));
        }
        p
    }

    #[test]
    fn v1_max_swap_alone_caps_memory_first() {
        let v1: Vec<(&str, String)> = rctl_writes(&params(&[("zone.max-swap", 1 << 30)]), false)
            .into_iter()
            .map(|w| (w.file, w.value))
            .collect();
        assert_eq!(
            v1,
            [
                ("memory.limit_in_bytes", (1u64 << 30).to_string()),
                ("memory.memsw.limit_in_bytes", (1u64 << 30).to_string()),
            ]
        );
    }

    #[test]
    fn rctls_map_to_v1_and_v2_files() {
        let p = params(&[
            ("zone.max-processes", 100),
            ("zone.max-lwps", 50),
            ("zone.cpu-cap", 50),
            ("zone.cpu-shares", 20),
            ("capped-memory.physical", 64 << 20),
            ("zone.max-swap", 96 << 20),
        ]);
        let v1: Vec<(&str, String)> = rctl_writes(&p, false)
            .into_iter()
            .map(|w| (w.file, w.value))
            .collect();
        assert_eq!(
            v1,
            [
                ("pids.max", "50".to_string()),
                ("cpu.shares", "20".into()),
                ("cpu.cfs_period_us", "100000".into()),
                ("cpu.cfs_quota_us", "50000".into()),
                ("memory.limit_in_bytes", (64u64 << 20).to_string()),
                ("memory.memsw.limit_in_bytes", (96u64 << 20).to_string()),
            ]
        );
        let v2: Vec<(&str, String)> = rctl_writes(&p, true)
            .into_iter()
            .map(|w| (w.file, w.value))
            .collect();
        assert_eq!(
            v2,
            [
                ("pids.max", "50".to_string()),
                ("cpu.weight", "20".into()),
                ("cpu.max", "50000 100000".into()),
                ("memory.max", (64u64 << 20).to_string()),
                ("memory.swap.max", (32u64 << 20).to_string()),
            ]
        );
    }

    /// A recorded cgroup2 tree: the files a real v2 kernel shows at the top
    /// of a delegated subtree and in a fresh child.
    fn v2_tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let top = t.path();
        fs::write(
            top.join("cgroup.controllers"),
            "cpuset cpu io memory hugetlb pids rdma misc\n",
        )
        .unwrap();
        fs::write(top.join("cgroup.subtree_control"), "").unwrap();
        fs::write(top.join("cgroup.procs"), "").unwrap();
        t
    }

    fn v2_child_files(dir: &Path) {
        for f in [
            "cgroup.procs",
            "cgroup.kill",
            "pids.max",
            "cpu.max",
            "cpu.weight",
            "memory.max",
            "memory.swap.max",
        ] {
            fs::write(dir.join(f), "").unwrap();
        }
        fs::write(dir.join("cgroup.controllers"), "cpu io memory pids\n").unwrap();
        fs::write(dir.join("cgroup.subtree_control"), "").unwrap();
    }

    #[test]
    fn v2_create_enables_controllers_in_every_ancestor_and_apply_writes_v2_files() {
        let t = v2_tree();
        let h = Hierarchy {
            mount: t.path().to_path_buf(),
            controllers: vec![],
            own: PathBuf::from("/"),
        };
        let dir = zone_dir(&h, Path::new("/zones"), None, "web.7");
        // A real cgroupfs makes the files of a new child; lay the middle
        // level out as the kernel would once it exists.
        fs::create_dir_all(t.path().join("zones")).unwrap();
        v2_child_files(&t.path().join("zones"));
        create(&h, &dir, t.path()).unwrap();
        assert_eq!(
            fs::read_to_string(t.path().join("cgroup.subtree_control")).unwrap(),
            "+cpu +memory +pids +io"
        );
        assert_eq!(
            fs::read_to_string(t.path().join("zones/cgroup.subtree_control")).unwrap(),
            "+cpu +memory +pids +io"
        );
        assert!(dir.is_dir());
        v2_child_files(&dir);
        let p = params(&[
            ("zone.max-processes", 30),
            ("zone.cpu-cap", 150),
            ("capped-memory.physical", 1 << 30),
        ]);
        apply(std::slice::from_ref(&dir), &p, true).unwrap();
        assert_eq!(fs::read_to_string(dir.join("pids.max")).unwrap(), "30");
        assert_eq!(
            fs::read_to_string(dir.join("cpu.max")).unwrap(),
            "150000 100000"
        );
        assert_eq!(
            fs::read_to_string(dir.join("memory.max")).unwrap(),
            (1u64 << 30).to_string()
        );
    }

    #[test]
    fn the_v1_freezer_is_preferred_and_v2_cgroup_freeze_is_the_fallback() {
        let t = tempfile::tempdir().unwrap();
        let (v1, v2) = (t.path().join("freezer/z.1"), t.path().join("unified/z.1"));
        fs::create_dir_all(&v1).unwrap();
        fs::create_dir_all(&v2).unwrap();
        fs::write(v2.join("cgroup.freeze"), "0").unwrap();
        let dirs = vec![v2.clone(), v1.clone()];
        assert_eq!(freezer(&dirs).unwrap().0, v2.join("cgroup.freeze"));
        fs::write(v1.join("freezer.state"), "THAWED").unwrap();
        assert_eq!(
            freezer(&dirs).unwrap(),
            (v1.join("freezer.state"), "FROZEN", "THAWED")
        );
        assert!(freezer(&[t.path().to_path_buf()]).is_none());
    }

    #[test]
    fn move_self_to_leaf_makes_the_leaf_and_writes_the_process_into_it() {
        let t = v2_tree();
        let d = move_self_to_leaf(t.path(), "engine").unwrap();
        assert_eq!(d, t.path().join("engine"));
        assert_eq!(fs::read_to_string(d.join("cgroup.procs")).unwrap(), "0");
    }

    #[test]
    fn procs_finds_members_of_child_cgroups_and_read_small_reads_past_its_buffer() {
        let t = tempfile::tempdir().unwrap();
        let zone = t.path().join("z.1");
        fs::create_dir_all(zone.join("child/grandchild")).unwrap();
        fs::write(zone.join("cgroup.procs"), "10\n").unwrap();
        fs::write(zone.join("child/grandchild/cgroup.procs"), "11\n12\n").unwrap();
        let mut p = procs(&zone);
        p.sort();
        assert_eq!(p, [10, 11, 12]);
        // No child: the link count alone says so.
        assert_eq!(procs(&zone.join("child/grandchild")), [11, 12]);
        let big: String = (0..3000).map(|i| format!("{i}\n")).collect();
        fs::write(zone.join("cgroup.procs"), &big).unwrap();
        assert_eq!(
            read_small(&zone.join("cgroup.procs")).unwrap(),
            big.as_bytes()
        );
        assert_eq!(procs(&zone).len(), 3002);
    }

    #[test]
    fn remove_takes_empty_cgroups_at_once_and_walks_a_tree_that_is_not() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a.1"), t.path().join("b.1"));
        fs::create_dir(&a).unwrap();
        fs::create_dir_all(b.join("inner/deeper")).unwrap();
        let missing = t.path().join("never-made");
        remove(&[a.clone(), b.clone(), missing]).unwrap();
        assert!(!a.exists() && !b.exists());
    }

    #[test]
    fn an_rctl_no_cgroup_offers_is_an_error_naming_it() {
        let t = tempfile::tempdir().unwrap();
        let e = apply(
            &[t.path().to_path_buf()],
            &params(&[("zone.max-swap", 1 << 20)]),
            false,
        )
        .unwrap_err();
        assert_eq!(e.step, "rctl");
        assert!(e.message.starts_with("zone.max-swap: "), "{}", e.message);
    }

    #[test]
    fn this_host_is_detected_as_some_layout() {
        // Every Linux host with /sys/fs/cgroup is one of the three.
        if Path::new(CGROUP_FS).exists() {
            detect().unwrap();
        }
    }

    #[test]
    fn a_directory_is_in_the_hierarchy_of_its_longest_mount() {
        let hs = hierarchies_from(HYBRID_MOUNTINFO, HYBRID_SELF);
        let h = |d: &str| hierarchy_of(&hs, Path::new(d)).map(|h| h.controllers.clone());
        assert_eq!(h("/sys/fs/cgroup/unified/zones/a.1"), Some(vec![]));
        let pids = h("/sys/fs/cgroup/pids/zones/a.1").unwrap();
        assert_eq!(pids, ["pids"]);
        assert_eq!(h("/srv/not-a-cgroup"), None);
        // The sampler's view of this host is the runtime's.
        let host = host_hierarchies();
        assert_eq!(host, hierarchies().unwrap().as_slice());
    }
}
