//! # config.json: the part of the OCI runtime spec a zone honours
//!
//! The bundle's `config.json` is read into the structs below — only the
//! fields this runtime acts on or reports, each optional as the spec makes
//! it; unknown fields are ignored, as runc does for fields of newer specs.
//! (Not the `oci-spec` crate: its builders and getters pull a derive stack
//! into the engine crate for a dozen fields we read once; these structs
//! are the spec's JSON names, nothing else.)
//!
//! [`zone_params`] turns it into the zone's parameters; [`Process`] is
//! what the holder enters the zone with. What maps where:
//!
//! | config.json | zone |
//! | --- | --- |
//! | `root.path` (relative: to the bundle) | `path` |
//! | `hostname` | `host.hostname` |
//! | `annotations."zones.brand"` | `brand` (`sparse`, `whole`; default whole: the rootfs as it is) |
//! | `linux.resources.pids.limit` | `zone.max-processes` |
//! | `linux.resources.memory.limit` | `capped-memory.physical` |
//! | `linux.resources.memory.swap` | `zone.max-swap` |
//! | `linux.resources.cpu.shares` | `zone.cpu-shares` |
//! | `linux.resources.cpu.quota` / `period` | `zone.cpu-cap` (percent of one CPU, rounded up) |
//! | `linux.resources.cpu.cpus` | `zone.cpuset` |
//! | `process.args`, `env`, `cwd`, `user.uid` | the entered program, its environment, directory and user |
//! | `process.user.gid`, `additionalGids`, `umask` | its group, groups (replacing the zone's /etc/group ones), umask |
//! | `process.capabilities`, `rlimits` | narrowings of the zone's set and limits, never more ([`extra`], runtime/linux/enter_extra.rs) |
//! | `process.noNewPrivileges` | no_new_privs before the program runs |
//! | `process.terminal` (with `--console-socket`) | a pty of the zone's devpts |
//! | `mounts`: bind of a directory or a file, tmpfs | `mount` lines ([`mount_lines`]); a file onto a file, made where missing, a link there refused |
//! | `mounts` at /proc, /sys, /dev, /dev/pts, /dev/shm, /dev/mqueue | the zone's own (skipped) |
//! | `linux.maskedPaths`, `readonlyPaths` (directories) | a read-only empty tmpfs, a read-only bind; under /proc and /sys: the zone's view |
//! | `root.readonly` | the bind of the rootfs made read-only (state.rs) |
//! | `linux.namespaces[network].path` | `vnet.netns` (the zone joins it: runtime/linux/netns.rs) |
//! | `linux.seccomp` | `seccomp.profile` (stacked on the zone's filter) |
//! | `hooks` (prestart, createRuntime, poststart, poststop) | run on the host with the state on stdin |
//!
//! Refused, with an error naming the entry: a bind whose source is
//! missing, a mount of another type, a masked or read-only path that is a file
//! outside /proc and /sys, a namespace other than the network's joined
//! by path, a seccomp profile that does not compile (naming its field).
//! Logged and left out: unknown capability names.
//!
//! `linux.seccomp` is written to `seccomp.json` in the container's state
//! directory and named by the zone parameter `seccomp.profile`: the zone
//! loads it on top of its own filter, for the program and every `exec`
//! (runtime/linux/seccomp_oci.rs); the zone's refusals still hold.

use crate::param::Params;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    #[serde(default)]
    pub oci_version: String,
    pub root: Option<Root>,
    pub process: Option<Process>,
    pub hostname: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub hooks: Option<Hooks>,
    pub linux: Option<Linux>,
    #[serde(default)]
    pub mounts: Vec<Mount>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Mount {
    pub destination: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Capabilities {
    #[serde(default)]
    pub bounding: Vec<String>,
    #[serde(default)]
    pub effective: Vec<String>,
    #[serde(default)]
    pub permitted: Vec<String>,
    #[serde(default)]
    pub inheritable: Vec<String>,
    #[serde(default)]
    pub ambient: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Rlimit {
    #[serde(rename = "type")]
    pub kind: String,
    pub soft: u64,
    pub hard: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Namespace {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub path: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Root {
    pub path: String,
    #[serde(default)]
    pub readonly: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    #[serde(default)]
    pub terminal: bool,
    #[serde(default)]
    pub user: User,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub cwd: String,
    #[serde(default)]
    pub no_new_privileges: bool,
    pub capabilities: Option<Capabilities>,
    #[serde(default)]
    pub rlimits: Vec<Rlimit>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub uid: u32,
    #[serde(default)]
    pub gid: u32,
    #[serde(default)]
    pub additional_gids: Vec<u32>,
    pub umask: Option<u32>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Hook {
    pub path: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    pub timeout: Option<u64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hooks {
    #[serde(default)]
    pub prestart: Vec<Hook>,
    #[serde(default)]
    pub create_runtime: Vec<Hook>,
    #[serde(default)]
    pub create_container: Vec<Hook>,
    #[serde(default)]
    pub start_container: Vec<Hook>,
    #[serde(default)]
    pub poststart: Vec<Hook>,
    #[serde(default)]
    pub poststop: Vec<Hook>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Linux {
    pub resources: Option<Resources>,
    #[serde(default)]
    pub namespaces: Vec<Namespace>,
    pub seccomp: Option<serde_json::Value>,
    #[serde(default)]
    pub masked_paths: Vec<String>,
    #[serde(default)]
    pub readonly_paths: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Resources {
    pub pids: Option<Pids>,
    pub memory: Option<Memory>,
    pub cpu: Option<Cpu>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Pids {
    pub limit: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Memory {
    pub limit: Option<i64>,
    pub swap: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Cpu {
    pub shares: Option<u64>,
    pub quota: Option<i64>,
    pub period: Option<u64>,
    pub cpus: Option<String>,
}

/// Read `config.json` of `bundle`; the error names the file.
pub fn load(bundle: &Path) -> Result<Spec, String> {
    let p = bundle.join("config.json");
    let text = std::fs::read_to_string(&p)
        .map_err(|e| format!("open {}: {}", p.display(), crate::tool::os_msg(&e)))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// The container's root: `root.path`, relative to the bundle when it is
/// relative; the error names the bundle.
pub fn rootfs(spec: &Spec, bundle: &Path) -> Result<PathBuf, String> {
    let Some(r) = &spec.root else {
        return Err(format!(
            "{}: root.path is not set",
            bundle.join("config.json").display()
        ));
    };
    let p = Path::new(&r.path);
    Ok(if p.is_absolute() {
        p.to_path_buf()
    } else {
        bundle.join(p)
    })
}

/// The zone's parameters for container `spec` named `name` (module
/// comment); an error names the parameter.
pub fn zone_params(spec: &Spec, name: &str, root: &Path) -> Result<Params, String> {
    let mut params = Params::new();
    let mut set = |arg: String| -> Result<(), String> {
        params
            .set_arg(&arg)
            .map_err(|e| format!("config.json: {arg}: {e}"))
    };
    set(format!("name={name}"))?;
    set(format!("path={}", root.display()))?;
    set("persist=true".into())?;
    if let Some(h) = spec.hostname.as_deref().filter(|h| !h.is_empty()) {
        set(format!("host.hostname={h}"))?;
    }
    if let Some(b) = spec.annotations.get("zones.brand") {
        set(format!("brand={b}"))?;
    }
    // A network namespace made by the engine (Podman, CNI): joined.
    if let Some(ns) = spec
        .linux
        .iter()
        .flat_map(|l| &l.namespaces)
        .find(|n| n.kind == "network" && !n.path.is_empty())
    {
        set(format!("vnet.netns={}", ns.path))?;
    }
    let res = spec.linux.as_ref().and_then(|l| l.resources.as_ref());
    if let Some(r) = res {
        if let Some(p) = &r.pids
            && p.limit > 0
        {
            set(format!("zone.max-processes={}", p.limit))?;
        }
        if let Some(m) = &r.memory {
            if let Some(l) = m.limit.filter(|l| *l > 0) {
                set(format!("capped-memory.physical={l}"))?;
            }
            if let Some(s) = m.swap.filter(|s| *s > 0) {
                set(format!("zone.max-swap={s}"))?;
            }
        }
        if let Some(c) = &r.cpu {
            if let Some(s) = c.shares.filter(|s| *s > 0) {
                set(format!("zone.cpu-shares={s}"))?;
            }
            if let Some(q) = c.quota.filter(|q| *q > 0) {
                let period = c.period.filter(|p| *p > 0).unwrap_or(100_000);
                let pct = (q as u64 * 100).div_ceil(period);
                set(format!("zone.cpu-cap={}", pct.max(1)))?;
            }
            if let Some(cpus) = c.cpus.as_deref().filter(|c| !c.is_empty()) {
                set(format!("zone.cpuset={cpus}"))?;
            }
        }
    }
    Ok(params)
}

/// Mount points the zone makes itself (its /proc, /sys, /dev, /dev/pts,
/// /dev/shm; /dev/mqueue and the cgroup tree are not mounted): the
/// spec's entries there are left to the zone.
const ZONE_OWN: [&str; 8] = [
    "/proc",
    "/sys",
    "/sys/fs/cgroup",
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/dev/console",
];

/// A path as an fstab(5) field (blanks and backslashes octal-escaped).
fn fstab_field(p: &str) -> String {
    let mut o = String::new();
    for c in p.chars() {
        match c {
            ' ' => o.push_str("\\040"),
            '\t' => o.push_str("\\011"),
            '\n' => o.push_str("\\012"),
            '\\' => o.push_str("\\134"),
            c => o.push(c),
        }
    }
    o
}

/// The options a zone mount line keeps (the rest — propagation, SELinux
/// relabelling, `private`, … — have no meaning for a zone's own mount).
fn kept_options(opts: &[String]) -> String {
    let kept: Vec<&str> = opts
        .iter()
        .map(String::as_str)
        .filter(|o| {
            matches!(
                *o,
                "ro" | "nosuid" | "nodev" | "noexec" | "noatime" | "relatime" | "rbind" | "bind"
            ) || ["size=", "mode=", "nr_inodes=", "uid=", "gid="]
                .iter()
                .any(|p| o.starts_with(p))
        })
        .collect();
    if kept.is_empty() {
        "defaults".into()
    } else {
        kept.join(",")
    }
}

/// The zone's `mount` lines for the spec's `mounts`, `linux.maskedPaths`
/// and `linux.readonlyPaths` (the zone's path is `root`, the container's
/// rootfs `rootfs`), and the notes to log for what is left to the zone.
/// An entry no mount line can give is an error naming its destination.
pub fn mount_lines(
    spec: &Spec,
    root: &Path,
    rootfs: &Path,
) -> Result<(Vec<String>, Vec<String>), String> {
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    let at = |dest: &str| fstab_field(&format!("{}{}", root.display(), dest));
    for m in &spec.mounts {
        let dest = m.destination.trim_end_matches('/');
        if !dest.starts_with('/') || dest.split('/').any(|c| c == "..") {
            return Err(format!(
                "config.json: mount {:?}: the destination must be an absolute path without ..",
                m.destination
            ));
        }
        if ZONE_OWN.contains(&dest) {
            notes.push(format!("mount {dest} ({}): the zone's own", m.kind));
            continue;
        }
        let bind = m.kind == "bind" || m.options.iter().any(|o| o == "bind" || o == "rbind");
        if bind {
            let src = Path::new(&m.source);
            std::fs::metadata(src).map_err(|e| {
                format!(
                    "config.json: mount {dest}: source {}: {}",
                    m.source,
                    crate::tool::os_msg(&e)
                )
            })?;
            // A file (Podman's /etc/hosts, resolv.conf, hostname,
            // .containerenv; -v FILE:FILE) binds onto a file the runtime
            // makes in the root where missing, a link there refused
            // (runtime/linux/mounts.rs, file_entry).
            lines.push(format!(
                "{} {} nullfs {} 0 0",
                fstab_field(&m.source),
                at(dest),
                kept_options(&m.options)
            ));
        } else if m.kind == "tmpfs" {
            lines.push(format!(
                "tmpfs {} tmpfs {} 0 0",
                at(dest),
                kept_options(&m.options)
            ));
        } else {
            return Err(format!(
                "config.json: mount {dest}: type {:?} is not supported in a zone (bind and tmpfs are)",
                m.kind
            ));
        }
    }
    let linux = spec.linux.clone().unwrap_or_default();
    for (paths, masked) in [(&linux.masked_paths, true), (&linux.readonly_paths, false)] {
        for p in paths {
            let p = p.trim_end_matches('/');
            if ["/proc", "/sys"]
                .iter()
                .any(|d| p == *d || p.starts_with(&format!("{d}/")))
            {
                // The zone's /proc view hides and makes read-only what
                // acts on the host (mounts.rs), /sys is read-only.
                continue;
            }
            if !p.starts_with('/') || p.split('/').any(|c| c == "..") {
                return Err(format!(
                    "config.json: linux.{}: {p:?} must be an absolute path without ..",
                    if masked {
                        "maskedPaths"
                    } else {
                        "readonlyPaths"
                    }
                ));
            }
            let inside = rootfs.join(p.trim_start_matches('/'));
            let Ok(md) = std::fs::symlink_metadata(&inside) else {
                continue; // missing: nothing to mask, as runc
            };
            // The bind's source is resolved on the host: a link on the
            // way (`a -> /etc`) must not take it out of the rootfs, so
            // the path must be its own real path below the rootfs.
            let direct = std::fs::canonicalize(rootfs)
                .ok()
                .map(|t| t.join(p.trim_start_matches('/')))
                .is_some_and(|want| std::fs::canonicalize(&inside).ok() == Some(want));
            if !md.is_dir() || !direct {
                return Err(format!(
                    "config.json: linux.{}: {p} is not a directory of the rootfs (or is reached through a link); a zone masks and protects directories only",
                    if masked {
                        "maskedPaths"
                    } else {
                        "readonlyPaths"
                    }
                ));
            }
            if masked {
                lines.push(format!("tmpfs {} tmpfs ro,size=0 0 0", at(p)));
            } else {
                lines.push(format!("{} {} nullfs ro 0 0", at(p), at(p)));
            }
        }
    }
    Ok((lines, notes))
}

/// What the holder narrows the program's process with
/// ([`crate::runtime::linux::enter_extra`]): capabilities, rlimits, groups,
/// working directory; and the notes to log (unknown names).
pub fn extra(
    p: &Process,
) -> Result<(crate::runtime::linux::enter_extra::Extra, Vec<String>), String> {
    use crate::runtime::linux::caps::cap;
    use crate::runtime::linux::enter_extra::{CapSets, Extra};
    let mut notes = Vec::new();
    let mut mask = |names: &[String]| -> u64 {
        let mut m = 0u64;
        for n in names {
            match cap(n) {
                Some(c) => m |= 1 << c,
                None => notes.push(format!(
                    "process.capabilities: {n} is unknown here; left out"
                )),
            }
        }
        m
    };
    let caps = p.capabilities.as_ref().map(|c| CapSets {
        bounding: mask(&c.bounding),
        effective: mask(&c.effective),
        permitted: mask(&c.permitted),
        inheritable: mask(&c.inheritable),
        ambient: mask(&c.ambient),
    });
    let mut rlimits = Vec::new();
    for r in &p.rlimits {
        let res = match r.kind.as_str() {
            "RLIMIT_CPU" => libc::RLIMIT_CPU,
            "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
            "RLIMIT_DATA" => libc::RLIMIT_DATA,
            "RLIMIT_STACK" => libc::RLIMIT_STACK,
            "RLIMIT_CORE" => libc::RLIMIT_CORE,
            "RLIMIT_RSS" => libc::RLIMIT_RSS,
            "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
            "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
            "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
            "RLIMIT_AS" => libc::RLIMIT_AS,
            "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
            "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
            "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
            "RLIMIT_NICE" => libc::RLIMIT_NICE,
            "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
            "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
            other => {
                return Err(format!(
                    "config.json: process.rlimits: unknown type {other:?}"
                ));
            }
        };
        if r.soft > r.hard {
            return Err(format!(
                "config.json: process.rlimits: {}: soft {} is above hard {}",
                r.kind, r.soft, r.hard
            ));
        }
        rlimits.push((res, r.soft, r.hard));
    }
    let cwd = match p.cwd.as_str() {
        "" => None,
        c if !c.starts_with('/') => {
            return Err(format!("config.json: process.cwd {c:?} is not absolute"));
        }
        c => Some(
            std::ffi::CString::new(c)
                .map_err(|_| format!("config.json: process.cwd {c:?} holds a NUL"))?,
        ),
    };
    Ok((
        Extra {
            caps,
            rlimits,
            gid: Some(p.user.gid),
            groups: Some(p.user.additional_gids.clone()),
            cwd,
        },
        notes,
    ))
}

/// The container's seccomp profile (`linux.seccomp`) as JSON, checked by
/// compiling it ([`crate::runtime::linux::seccomp_oci`]); None without
/// one. It is loaded on top of the zone's own filter (`seccomp.profile`).
pub fn seccomp_profile(spec: &Spec) -> Result<Option<String>, String> {
    let Some(v) = spec.linux.as_ref().and_then(|l| l.seccomp.as_ref()) else {
        return Ok(None);
    };
    let json = v.to_string();
    crate::runtime::linux::seccomp_oci::Program::compile(&json)
        .map_err(|e| format!("config.json: {e}"))?;
    Ok(Some(json))
}

/// The spec's namespaces that a zone cannot honour (one joined by path,
/// but the network's, which is `vnet.netns`: the zone makes its own), as
/// an error naming the first; a seccomp profile that does not compile
/// ([`seccomp_profile`]).
pub fn refused(spec: &Spec) -> Result<Vec<String>, String> {
    let notes = Vec::new();
    if let Some(l) = &spec.linux {
        if let Some(ns) = l
            .namespaces
            .iter()
            .find(|n| !n.path.is_empty() && n.kind != "network")
        {
            return Err(format!(
                "config.json: linux.namespaces: joining the {} namespace {} is not supported; a zone has its own (Podman: --network none)",
                ns.kind, ns.path
            ));
        }
        seccomp_profile(spec)?;
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_become_rctls() {
        let spec: Spec = serde_json::from_str(
            r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"hostname":"h1",
            "annotations":{"zones.brand":"sparse"},
            "linux":{"resources":{"pids":{"limit":64},
              "memory":{"limit":268435456,"swap":536870912},
              "cpu":{"shares":512,"quota":150000,"period":100000,"cpus":"0"}}},
            "process":{"args":["/bin/sh"],"env":["A=b"],"cwd":"/","user":{"uid":0,"gid":0}},
            "mounts":[{"destination":"/proc","type":"proc"}]}"#,
        )
        .unwrap();
        let root = rootfs(&spec, Path::new("/b")).unwrap();
        assert_eq!(root, Path::new("/b/rootfs"));
        let p = zone_params(&spec, "c1", &root).unwrap();
        assert_eq!(p.str("name"), Some("c1"));
        assert_eq!(p.str("host.hostname"), Some("h1"));
        assert_eq!(p.int("zone.max-processes"), Some(64));
        assert_eq!(p.int("capped-memory.physical"), Some(268435456));
        assert_eq!(p.int("zone.max-swap"), Some(536870912));
        assert_eq!(p.int("zone.cpu-shares"), Some(512));
        assert_eq!(p.int("zone.cpu-cap"), Some(150));
        assert_eq!(p.bool("persist"), Some(true));
    }

    fn spec(json: &str) -> Spec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn mounts_become_mount_lines_files_too_and_the_rest_is_skipped_or_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("my dir");
        std::fs::create_dir(&src).unwrap();
        let file = tmp.path().join("hosts");
        std::fs::write(&file, "").unwrap();
        let rootfs = tmp.path().join("rootfs");
        std::fs::create_dir_all(rootfs.join("data")).unwrap();
        std::fs::write(rootfs.join("secret"), "").unwrap();
        std::os::unix::fs::symlink(tmp.path(), rootfs.join("link")).unwrap();
        let s = spec(&format!(
            r#"{{"mounts":[
              {{"destination":"/proc","type":"proc","source":"proc"}},
              {{"destination":"/dev/shm","type":"tmpfs","source":"shm"}},
              {{"destination":"/etc/hosts","type":"bind","source":"{f}","options":["rbind","ro"]}},
              {{"destination":"/mnt","type":"bind","source":"{d}","options":["rbind","rprivate","nosuid","Z"]}},
              {{"destination":"/run","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]}}],
              "linux":{{"maskedPaths":["/proc/kcore","/data","/absent"],"readonlyPaths":["/sys/fs","/data"]}}}}"#,
            f = file.display(),
            d = src.display()
        ));
        let (lines, notes) = mount_lines(&s, Path::new("/z/r"), &rootfs).unwrap();
        let d = src.display().to_string().replace(' ', "\\040");
        assert_eq!(
            lines,
            [
                format!("{} /z/r/etc/hosts nullfs rbind,ro 0 0", file.display()),
                format!("{d} /z/r/mnt nullfs rbind,nosuid 0 0"),
                "tmpfs /z/r/run tmpfs nosuid,mode=755,size=65536k 0 0".into(),
                "tmpfs /z/r/data tmpfs ro,size=0 0 0".into(),
                "/z/r/data /z/r/data nullfs ro 0 0".into(),
            ]
        );
        assert_eq!(notes.len(), 2, "{notes:?}");
        // Each line is one the runtime parses back to the same paths.
        let e = crate::runtime::linux::mounts::parse_fstab_line(&lines[1])
            .unwrap()
            .unwrap();
        assert_eq!(e.source, src.display().to_string());
        assert!(e.bind);
        for (bad, what) in [
            (
                format!(
                    r#"{{"mounts":[{{"destination":"/x","type":"bind","source":"{}/absent"}}]}}"#,
                    tmp.path().display()
                ),
                "/x: source",
            ),
            (
                r#"{"mounts":[{"destination":"/x","type":"nfs","source":"h:/e"}]}"#.into(),
                "type \"nfs\"",
            ),
            (
                r#"{"mounts":[{"destination":"../x","type":"tmpfs"}]}"#.into(),
                "absolute",
            ),
            (
                r#"{"linux":{"maskedPaths":["/secret"]}}"#.into(),
                "/secret is not a directory",
            ),
            (
                r#"{"linux":{"readonlyPaths":["/link/my dir"]}}"#.into(),
                "reached through a link",
            ),
        ] {
            let e = mount_lines(&spec(&bad), Path::new("/z/r"), &rootfs).unwrap_err();
            assert!(e.contains(what), "{e}");
        }
    }

    #[test]
    fn process_settings_become_narrowings() {
        let s = spec(
            r#"{"process":{"args":["x"],"cwd":"/srv","user":{"uid":1000,"gid":1001,"additionalGids":[5,6],"umask":18},
              "noNewPrivileges":true,
              "capabilities":{"bounding":["CAP_KILL","CAP_CHOWN","CAP_NOPE"],"effective":["CAP_KILL"],
                "permitted":["CAP_KILL"],"ambient":["CAP_KILL"]},
              "rlimits":[{"type":"RLIMIT_NOFILE","soft":100,"hard":200}]}}"#,
        );
        let (x, notes) = extra(s.process.as_ref().unwrap()).unwrap();
        let c = x.caps.unwrap();
        assert_eq!(c.bounding, (1 << 5) | 1);
        assert_eq!((c.effective, c.ambient, c.inheritable), (1 << 5, 1 << 5, 0));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(x.rlimits, [(libc::RLIMIT_NOFILE, 100, 200)]);
        assert_eq!(
            (x.gid, x.groups.as_deref()),
            (Some(1001), Some(&[5u32, 6][..]))
        );
        assert_eq!(x.cwd.as_deref(), Some(c"/srv"));
        assert_eq!(s.process.unwrap().user.umask, Some(18));
        for (bad, what) in [
            (
                r#"{"rlimits":[{"type":"RLIMIT_X","soft":1,"hard":1}]}"#,
                "RLIMIT_X",
            ),
            (
                r#"{"rlimits":[{"type":"RLIMIT_CORE","soft":2,"hard":1}]}"#,
                "above hard",
            ),
            (r#"{"cwd":"rel"}"#, "not absolute"),
        ] {
            let p: Process = serde_json::from_str(bad).unwrap();
            let e = extra(&p).unwrap_err();
            assert!(e.contains(what), "{e}");
        }
    }

    #[test]
    fn a_network_path_is_joined_other_paths_are_refused_seccomp_is_checked() {
        let s = spec(
            r#"{"linux":{"namespaces":[{"type":"pid"},{"type":"network","path":"/run/netns/n1"}],
              "seccomp":{"defaultAction":"SCMP_ACT_ERRNO"}}}"#,
        );
        assert!(refused(&s).unwrap().is_empty());
        assert!(
            seccomp_profile(&s)
                .unwrap()
                .unwrap()
                .contains("SCMP_ACT_ERRNO")
        );
        let bad = spec(
            r#"{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW",
              "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}}}"#,
        );
        let e = refused(&bad).unwrap_err();
        assert!(e.contains("linux.seccomp.syscalls[0].action"), "{e}");
        assert!(seccomp_profile(&spec("{}")).unwrap().is_none());
        let p = zone_params(&s, "c", Path::new("/r")).unwrap();
        assert_eq!(p.str("vnet.netns"), Some("/run/netns/n1"));
        let s = spec(r#"{"linux":{"namespaces":[{"type":"uts","path":"/proc/1/ns/uts"}]}}"#);
        let e = refused(&s).unwrap_err();
        assert!(e.contains("uts namespace /proc/1/ns/uts"), "{e}");
    }

    #[test]
    fn a_bad_brand_names_the_parameter() {
        let spec: Spec =
            serde_json::from_str(r#"{"annotations":{"zones.brand":"nope"},"root":{"path":"/r"}}"#)
                .unwrap();
        let e = zone_params(&spec, "c", Path::new("/r")).unwrap_err();
        assert!(e.contains("brand=nope"), "{e}");
    }
}
